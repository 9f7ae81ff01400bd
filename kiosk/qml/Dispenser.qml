// Ticket dispenser: one touch on a field gives a ticket. Large targets, plain Vietnamese.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ApplicationWindow {
    id: root
    visible: true
    width: 1080
    height: 1920
    title: "motcua — máy lấy số"
    color: "#f3f5f7"

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 48
        spacing: 32

        Label {
            objectName: "centreName"
            text: vm.centreName
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            font.pixelSize: 48
            font.bold: true
            color: "#8b0000"
        }

        Label {
            text: "Chọn lĩnh vực để lấy số thứ tự"
            visible: vm.screen === "home" || vm.screen === "working"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            font.pixelSize: 40
        }

        Repeater {
            model: (vm.screen === "home" || vm.screen === "working") ? vm.services : []
            delegate: Button {
                objectName: "service-" + modelData.code
                Layout.fillWidth: true
                Layout.preferredHeight: 180
                enabled: vm.screen === "home"
                font.pixelSize: 46
                text: modelData.name
                onClicked: vm.takeTicket(modelData.code)
            }
        }

        ColumnLayout {
            objectName: "ticketView"
            visible: vm.screen === "ticket"
            Layout.fillWidth: true
            spacing: 16
            Label { text: "Số thứ tự của bạn"; font.pixelSize: 44; Layout.alignment: Qt.AlignHCenter }
            Label {
                objectName: "ticketNumber"
                text: vm.ticket.number || ""
                font.pixelSize: 220
                font.bold: true
                Layout.alignment: Qt.AlignHCenter
            }
            Label { text: "Lĩnh vực: " + (vm.ticket.service || ""); font.pixelSize: 40; Layout.alignment: Qt.AlignHCenter }
            Label { text: "Số người đang chờ: " + (vm.ticket.waiting || 0); font.pixelSize: 40; Layout.alignment: Qt.AlignHCenter }
            Label { text: "Thời gian chờ dự kiến: " + (vm.ticket.wait_min || 0) + " phút"; font.pixelSize: 40; Layout.alignment: Qt.AlignHCenter }
            Label { text: "Quầy phục vụ: " + (vm.ticket.counters || ""); font.pixelSize: 40; Layout.alignment: Qt.AlignHCenter }
            Button {
                objectName: "done"
                text: "Xong"
                font.pixelSize: 44
                Layout.preferredHeight: 160
                Layout.preferredWidth: 480
                Layout.alignment: Qt.AlignHCenter
                onClicked: vm.goHome()
            }
        }

        ColumnLayout {
            visible: vm.screen === "error"
            Layout.fillWidth: true
            Label {
                objectName: "errorMessage"
                text: vm.errorMessage
                wrapMode: Text.WordWrap
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignHCenter
                font.pixelSize: 44
                color: "#b00020"
            }
            Button {
                text: "Quay lại"
                font.pixelSize: 44
                Layout.preferredHeight: 160
                Layout.preferredWidth: 480
                Layout.alignment: Qt.AlignHCenter
                onClicked: vm.goHome()
            }
        }

        Item { Layout.fillHeight: true }
    }
}
