// Hall board for a TV: the newest call large, the calls before it, and who is waiting where.
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
            text: hall.calls.length > 0
                  ? "Mời công dân số " + hall.calls[0].number + " đến " + hall.calls[0].counter
                  : "Xin chào quý khách"
        }

        GridLayout {
            columns: 4
            Layout.fillWidth: true
            rowSpacing: 12
            columnSpacing: 24
            Repeater {
                model: hall.calls.slice(1)
                delegate: Rectangle {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 120
                    radius: 12
                    color: "#16325c"
                    Label {
                        anchors.centerIn: parent
                        color: "white"
                        font.pixelSize: 44
                        text: modelData.number + "  →  " + modelData.counter
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
                    color: "#b3c7e6"
                    font.pixelSize: 36
                    text: modelData.name + ": " + modelData.waiting + " người chờ"
                }
            }
        }
    }
}
