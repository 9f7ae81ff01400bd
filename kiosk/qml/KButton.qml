// A touch button never smaller than ui.target pixels (the site's ≥ 15 mm rule) on either side.
import QtQuick
import QtQuick.Controls

Button {
    id: control
    property bool small: false
    property bool primary: false
    readonly property color fg: ui.highContrast ? (checked || primary ? "#000000" : "#ffffff") : (checked || primary ? "#ffffff" : "#1a1a1a")
    readonly property color fill: ui.highContrast ? (checked || primary ? "#ffff00" : "#000000") : (checked || primary ? "#8b0000" : "#ffffff")

    implicitHeight: Math.max(ui.target, contentItem.implicitHeight + ui.target / 3)
    implicitWidth: Math.max(ui.target, contentItem.implicitWidth + ui.target / 2)
    font.pixelSize: small ? Math.round(ui.font * 0.8) : Math.round(ui.font * 1.2)
    font.bold: !small
    onPressed: ui.touch()

    contentItem: Text {
        text: control.text
        font: control.font
        color: control.fg
        wrapMode: Text.WordWrap
        horizontalAlignment: Text.AlignHCenter
        verticalAlignment: Text.AlignVCenter
    }
    background: Rectangle {
        radius: ui.target / 6
        color: control.down ? Qt.darker(control.fill, 1.2) : control.fill
        border.width: ui.highContrast ? 4 : 2
        border.color: ui.highContrast ? "#ffff00" : "#8b0000"
        opacity: control.enabled ? 1 : 0.5
    }
}
