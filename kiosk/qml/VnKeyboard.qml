// On-screen Vietnamese keyboard for the touch kiosk (Qt's virtual keyboard is not in PySide6-Essentials).
// Letters in the familiar QWERTY order, a row of the Vietnamese letters (ă â đ ê ô ơ ư) and a row of
// tone marks shown on "a" (á à ả ã ạ): a tone key marks the right vowel of the last word, so a citizen
// types "dang ky" then á and gets "đăng ký" without knowing Telex. Keys never take the focus, so the
// text field keeps it; every change is announced as the field's own textEdited.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import "vnkeys.js" as VnKeys

Rectangle {
    id: keyboard
    objectName: "vnKeyboard"
    property Item target: null
    property bool shift: false
    property bool en: false
    readonly property int gap: Math.round(ui.target / 8)
    readonly property var rows: [
        "1234567890".split(""),
        "qwertyuiop".split(""),
        "asdfghjkl".split(""),
        "zxcvbnm".split(""),
        "ăâđêôơư".split("")
    ]
    readonly property var tones: [["sac", "á"], ["huyen", "à"], ["hoi", "ả"], ["nga", "ã"], ["nang", "ạ"]]

    color: ui.highContrast ? "#000000" : "#dde2e6"
    radius: 8
    implicitHeight: column.implicitHeight + gap * 2

    function edit(next) {
        if (!target)
            return
        target.remove(0, target.length)
        target.insert(0, next)
        target.cursorPosition = target.length
        target.textEdited()
    }
    function type(ch) {
        edit(target.text + (shift ? ch.toUpperCase() : ch))
        shift = false
    }

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: keyboard.gap
        spacing: keyboard.gap

        Repeater {
            model: keyboard.rows
            delegate: RowLayout {
                required property var modelData
                required property int index
                Layout.fillWidth: true
                spacing: keyboard.gap
                KButton {
                    visible: index === 3
                    objectName: "vk-shift"
                    focusPolicy: Qt.NoFocus
                    small: true
                    text: "⇧"
                    checked: keyboard.shift
                    Layout.fillWidth: true
                    Layout.preferredWidth: ui.target; Layout.horizontalStretchFactor: 3
                    onClicked: keyboard.shift = !keyboard.shift
                }
                Repeater {
                    model: modelData
                    delegate: KButton {
                        required property string modelData
                        objectName: "vk-" + modelData
                        focusPolicy: Qt.NoFocus
                        small: true
                        text: keyboard.shift ? modelData.toUpperCase() : modelData
                        Layout.fillWidth: true
                        Layout.preferredWidth: ui.target; Layout.horizontalStretchFactor: 2
                        onClicked: keyboard.type(modelData)
                    }
                }
                KButton {
                    visible: index === 3
                    objectName: "vk-backspace"
                    focusPolicy: Qt.NoFocus
                    small: true
                    text: "⌫"
                    Layout.fillWidth: true
                    Layout.preferredWidth: ui.target; Layout.horizontalStretchFactor: 3
                    onClicked: if (keyboard.target) keyboard.edit(keyboard.target.text.slice(0, -1))
                }
            }
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: keyboard.gap
            Label {
                text: keyboard.en ? "Tone:" : "Dấu:"
                color: ui.highContrast ? "#ffffff" : "#1a1a1a"
                font.pixelSize: Math.round(ui.font * 0.8)
            }
            Repeater {
                model: keyboard.tones
                delegate: KButton {
                    required property var modelData
                    objectName: "vk-tone-" + modelData[0]
                    focusPolicy: Qt.NoFocus
                    small: true
                    text: modelData[1]
                    Layout.fillWidth: true
                    onClicked: if (keyboard.target) keyboard.edit(VnKeys.applyTone(keyboard.target.text, modelData[0]))
                }
            }
        }

        RowLayout {
            Layout.fillWidth: true
            spacing: keyboard.gap
            KButton {
                objectName: "vk-space"
                focusPolicy: Qt.NoFocus
                small: true
                text: keyboard.en ? "space" : "dấu cách"
                Layout.fillWidth: true
                Layout.preferredWidth: ui.target; Layout.horizontalStretchFactor: 8
                onClicked: keyboard.type(" ")
            }
            KButton {
                objectName: "vk-hide"
                focusPolicy: Qt.NoFocus
                small: true
                primary: true
                text: keyboard.en ? "Close keyboard" : "Ẩn bàn phím"
                Layout.fillWidth: true
                Layout.preferredWidth: ui.target; Layout.horizontalStretchFactor: 4
                onClicked: if (keyboard.target) keyboard.target.focus = false
            }
        }
    }
}
