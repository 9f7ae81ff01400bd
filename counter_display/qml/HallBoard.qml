// Hall board for a TV: the headline call large, every counter's latest number (the newest
// highlighted) beside the list of the last calls, who is waiting where, and a scrolling notice.
// Every colour pair text/background is a palette property below; tests/test_hall_contrast.py
// checks each pair, and every frame of the highlight's colour animation, against WCAG 4.5:1.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    id: board
    visible: true
    width: 1920
    height: 1080
    // Laid out for a 1920 x 1080 TV and scaled as a whole to the window (a smaller screen shows all of it).
    readonly property real fit: Math.min(width / 1920, height / 1080)
    title: "motcua — bảng gọi số"
    color: palette_.background

    QtObject {
        id: palette_
        objectName: "palette"
        readonly property color background: "#0b1d3a"
        readonly property color title: "#ffd54f"
        readonly property color text: "#ffffff"
        readonly property color muted: "#b3c7e6"
        readonly property color card: "#16325c"
        readonly property color closedCard: "#3a3f4b"
        readonly property color highlight: "#ffb300"
        readonly property color highlightFlash: "#ffe082"
        readonly property color highlightText: "#0b1d3a"
        readonly property color noticeBar: "#102a52"
    }

    Item {
        id: stage
        objectName: "stage"
        width: 1920
        height: 1080
        scale: board.fit
        transformOrigin: Item.TopLeft
        x: Math.round((board.width - width * scale) / 2)
        y: Math.round((board.height - height * scale) / 2)

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 40
        spacing: 24

        Label {
            text: hall.centreName
            color: palette_.title
            font.pixelSize: 52
            font.bold: true
            Layout.alignment: Qt.AlignHCenter
        }

        Label {
            objectName: "newestCall"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            color: palette_.text
            font.pixelSize: 72
            font.bold: true
            text: hall.newestText
        }

        RowLayout {
        visible: hall.layout === "grid"
        Layout.fillWidth: true
        spacing: 32
        // Grid layout: one card per counter with the number it serves now.
        GridLayout {
            objectName: "counterGrid"
            columns: hall.columns
            Layout.fillWidth: true
            Layout.alignment: Qt.AlignTop
            rowSpacing: 12
            columnSpacing: 24
            Repeater {
                model: hall.counters
                delegate: Rectangle {
                    objectName: "counterCard"
                    property bool highlighted: modelData.newest
                    Layout.fillWidth: true
                    Layout.minimumWidth: 240
                    Layout.preferredHeight: 140
                    radius: 12
                    color: highlighted ? palette_.highlight : (modelData.closed ? palette_.closedCard : palette_.card)
                    border.color: highlighted ? palette_.text : "transparent"
                    border.width: 4
                    // Flash between two light ambers: dark text stays readable in every frame
                    // (an opacity fade passed dark grey over olive, 2:1, unreadable from the seats).
                    SequentialAnimation on color {
                        running: highlighted
                        loops: 3
                        ColorAnimation { to: palette_.highlightFlash; duration: 300 }
                        ColorAnimation { to: palette_.highlight; duration: 300 }
                    }
                    Column {
                        anchors.centerIn: parent
                        Label {
                            anchors.horizontalCenter: parent.horizontalCenter
                            color: highlighted ? palette_.highlightText : palette_.muted
                            font.pixelSize: 32
                            text: modelData.name
                        }
                        Label {
                            objectName: "counterNumber"
                            anchors.horizontalCenter: parent.horizontalCenter
                            color: highlighted ? palette_.highlightText : palette_.text
                            font.pixelSize: 56
                            font.bold: true
                            text: modelData.closed ? hall.labels.closed : modelData.number
                        }
                    }
                }
            }
        }

        // The last calls, newest first, beside the counters (site file: display.hall.recent_calls).
        ColumnLayout {
            objectName: "recentCalls"
            Layout.preferredWidth: 520
            Layout.maximumWidth: 520
            Layout.alignment: Qt.AlignTop
            spacing: 8
            Label {
                text: hall.labels.recent
                color: palette_.title
                font.pixelSize: 36
                font.bold: true
            }
            Repeater {
                model: hall.recentCalls
                delegate: Rectangle {
                    objectName: "recentCall"
                    Layout.fillWidth: true
                    Layout.preferredHeight: 64
                    radius: 8
                    color: modelData.current ? palette_.highlight : palette_.card
                    Label {
                        anchors.fill: parent
                        anchors.leftMargin: 20
                        verticalAlignment: Text.AlignVCenter
                        color: modelData.current ? palette_.highlightText : palette_.text
                        font.pixelSize: 36
                        font.bold: true
                        text: modelData.number + "  →  " + modelData.counter
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
                    color: modelData.newest ? palette_.highlight : palette_.card
                    RowLayout {
                        anchors.fill: parent
                        anchors.leftMargin: 24
                        anchors.rightMargin: 24
                        Label {
                            color: modelData.newest ? palette_.highlightText : palette_.text
                            font.pixelSize: 48
                            font.bold: true
                            text: hall.labels.number + " " + modelData.number
                            Layout.fillWidth: true
                        }
                        Label {
                            color: modelData.newest ? palette_.highlightText : palette_.text
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
                    color: palette_.muted
                    font.pixelSize: 36
                    text: modelData.text
                }
            }
        }

        Rectangle {
            objectName: "noticeBar"
            Layout.fillWidth: true
            Layout.preferredHeight: 64
            color: palette_.noticeBar
            clip: true
            Label {
                id: noticeText
                objectName: "notice"
                anchors.verticalCenter: parent.verticalCenter
                color: palette_.title
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
    }  // stage
}
