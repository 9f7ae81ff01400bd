// The frame every kiosk screen shares: title bar with the centre's name, the staff's offline mark,
// and the accessibility toggles (language, large text, high contrast). Colours follow ui.highContrast.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    id: root
    visible: true
    // Laid out for the panel's pixels (ui.designWidth x ui.designHeight) and scaled as a whole to the
    // window, so a window shrunk to a smaller screen shows everything, only smaller.
    width: ui.designWidth
    height: ui.designHeight
    title: "motcua"
    font.family: "Noto Sans"
    font.pixelSize: ui.font

    readonly property real fit: Math.min(width / ui.designWidth, height / ui.designHeight)
    readonly property bool landscape: ui.designWidth > ui.designHeight
    readonly property color bg: ui.highContrast ? "#000000" : "#f3f5f7"
    readonly property color fg: ui.highContrast ? "#ffffff" : "#1a1a1a"
    readonly property color accent: ui.highContrast ? "#ffff00" : "#8b0000"
    readonly property color card: ui.highContrast ? "#000000" : "#ffffff"
    readonly property color danger: ui.highContrast ? "#ffff00" : "#b00020"
    readonly property int gap: Math.round(ui.target / 3)
    property string offlineMark: ""
    property string paperMark: ""  // the printer's paper running out: small, for whoever passes by
    default property alias content: body.data
    // The text field the on-screen keyboard types into: the last one touched, unless it has its own
    // keys (ownKeys: true, like the dossier code's).
    property Item textTarget: null
    onActiveFocusItemChanged: {
        const item = activeFocusItem
        if (item && "cursorPosition" in item && "placeholderText" in item && item.ownKeys !== true)
            textTarget = item
    }

    color: bg

    Item {
        id: stage
        objectName: "stage"
        width: ui.designWidth
        height: ui.designHeight
        scale: root.fit
        transformOrigin: Item.TopLeft
        x: Math.round((root.width - width * scale) / 2)
        y: Math.round((root.height - height * scale) / 2)

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: root.gap
        spacing: root.gap

        RowLayout {
            Layout.fillWidth: true
            spacing: root.gap
            Label {
                objectName: "centreName"
                text: ui.centreName
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                font.pixelSize: Math.round(ui.font * 1.3)
                font.bold: true
                color: root.accent
            }
            Rectangle {
                objectName: "paperMark"
                visible: root.paperMark !== ""
                color: "transparent"
                border.color: root.accent
                border.width: 2
                radius: 8
                implicitWidth: paperText.implicitWidth + root.gap
                implicitHeight: paperText.implicitHeight + root.gap / 2
                Layout.alignment: Qt.AlignVCenter
                Label {
                    id: paperText
                    anchors.centerIn: parent
                    text: root.paperMark
                    color: root.accent
                    font.pixelSize: Math.round(ui.font * 0.6)
                }
            }
            Rectangle {
                objectName: "offlineMark"
                visible: root.offlineMark !== ""
                color: root.danger
                radius: 8
                implicitWidth: offlineText.implicitWidth + root.gap * 2
                implicitHeight: ui.target
                Label {
                    id: offlineText
                    anchors.centerIn: parent
                    text: root.offlineMark
                    color: ui.highContrast ? "#000000" : "#ffffff"
                    font.bold: true
                    font.pixelSize: Math.round(ui.font * 0.8)
                }
            }
        }

        Flow {
            Layout.fillWidth: true
            spacing: root.gap
            KButton { objectName: "btn-language"; text: ui.t.language; small: true; onClicked: ui.toggleLanguage() }
            KButton { objectName: "btn-large"; text: ui.t.large_text; small: true; checked: ui.largeText; onClicked: ui.toggleLargeText() }
            KButton { objectName: "btn-contrast"; text: ui.t.contrast; small: true; checked: ui.highContrast; onClicked: ui.toggleContrast() }
        }

        Item {
            id: body
            Layout.fillWidth: true
            Layout.fillHeight: true
        }

        VnKeyboard {
            Layout.fillWidth: true
            Layout.preferredHeight: implicitHeight
            target: root.textTarget
            en: ui.lang === "en"
            visible: root.textTarget !== null && root.textTarget.visible && root.textTarget.activeFocus
        }
    }

    // Back to the start after the idle time: the keyboard goes away with the last citizen's field.
    Connections {
        target: ui
        function onIdle() { if (root.textTarget) root.textTarget.focus = false }
    }

    // A touch anywhere keeps the screen from resetting.
    MouseArea {
        anchors.fill: parent
        z: -1
        onPressed: (mouse) => { ui.touch(); mouse.accepted = false }
    }
    }  // stage
}
