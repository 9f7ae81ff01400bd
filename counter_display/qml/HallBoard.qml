// Hall board for a TV: the newest call large, every counter's latest number (the newest
// highlighted), who is waiting where, and a notice scrolling along the bottom.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    visible: true
    width: 1920
    height: 1080
    title: "motcua — bảng gọi số"
    color: "#0b1d3a"

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 40
        spacing: 24

        Label {
            text: hall.centreName
            color: "#ffd54f"
            font.pixelSize: 52
            font.bold: true
            Layout.alignment: Qt.AlignHCenter
        }

        Label {
            objectName: "newestCall"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            color: "white"
            font.pixelSize: 72
            font.bold: true
            text: hall.newestText
        }

        // Grid layout: one card per counter with the number it serves now.
        GridLayout {
            objectName: "counterGrid"
            visible: hall.layout === "grid"
            columns: hall.columns
            Layout.fillWidth: true
            rowSpacing: 12
            columnSpacing: 24
            Repeater {
                model: hall.counters
                delegate: Rectangle {
                    objectName: "counterCard"
                    property bool highlighted: modelData.newest
                    Layout.fillWidth: true
                    Layout.preferredHeight: 140
                    radius: 12
                    color: highlighted ? "#ffb300" : (modelData.closed ? "#3a3f4b" : "#16325c")
                    border.color: highlighted ? "white" : "transparent"
                    border.width: 4
                    SequentialAnimation on opacity {
                        running: highlighted
                        loops: 3
                        NumberAnimation { to: 0.4; duration: 300 }
                        NumberAnimation { to: 1.0; duration: 300 }
                    }
                    Column {
                        anchors.centerIn: parent
                        Label {
                            anchors.horizontalCenter: parent.horizontalCenter
                            color: highlighted ? "#0b1d3a" : "#b3c7e6"
                            font.pixelSize: 32
                            text: modelData.name
                        }
                        Label {
                            objectName: "counterNumber"
                            anchors.horizontalCenter: parent.horizontalCenter
                            color: highlighted ? "#0b1d3a" : "white"
                            font.pixelSize: 56
                            font.bold: true
                            text: modelData.closed ? hall.labels.closed : modelData.number
                        }
                    }
                }
            }
        }

        // List layout: the latest calls, newest first, one row each.
        ColumnLayout {
            objectName: "callList"
            visible: hall.layout === "list"
            Layout.fillWidth: true
            spacing: 8
            Repeater {
                model: hall.calls
                delegate: Rectangle {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 80
                    radius: 8
                    color: modelData.newest ? "#ffb300" : "#16325c"
                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: 24
                        anchors.rightMargin: 24
                        Label {
                            color: modelData.newest ? "#0b1d3a" : "white"
                            font.pixelSize: 48
                            font.bold: true
                            text: hall.labels.number + " " + modelData.number
                            Layout.fillWidth: true
                        }
                        Label {
                            color: modelData.newest ? "#0b1d3a" : "white"
                            font.pixelSize: 48
                            text: "→  " + modelData.counter
                        }
                    }
                }
            }
        }

        Item { Layout.fillHeight: true }

        RowLayout {
            Layout.fillWidth: true
            spacing: 40
            Repeater {
                model: hall.queues
                delegate: Label {
                    objectName: "queueLabel"
                    color: "#b3c7e6"
                    font.pixelSize: 36
                    text: modelData.text
                }
            }
        }

        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: 64
            color: "#102a52"
            clip: true
            Label {
                id: noticeText
                objectName: "notice"
                anchors.verticalCenter: parent.verticalCenter
                color: "#ffd54f"
                font.pixelSize: 36
                text: hall.notice
                NumberAnimation on x {
                    from: noticeText.parent ? noticeText.parent.width : 1920
                    to: -noticeText.width
                    duration: 18000
                    loops: Animation.Infinite
                }
            }
        }
    }
}
