// Lookup screen: the procedures catalogue, and a dossier's status by its code (typed on the
// on-screen keys or scanned from the receipt's QR).
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

KioskWindow {
    id: win
    title: "motcua — tra cứu"
    readonly property bool en: ui.lang === "en"

    // --- menu ---------------------------------------------------------------------------------------
    ColumnLayout {
        anchors.fill: parent
        visible: vm.screen === "menu"
        spacing: win.gap * 2
        Label {
            text: win.en ? "What would you like to look up?" : "Quý vị muốn tra cứu gì?"
            Layout.fillWidth: true; horizontalAlignment: Text.AlignHCenter; wrapMode: Text.WordWrap
            font.pixelSize: Math.round(ui.font * 1.4); font.bold: true; color: win.fg
        }
        KButton {
            objectName: "menu-procedures"
            text: win.en ? "Procedures: documents, fees, time" : "Thủ tục hành chính: hồ sơ, lệ phí, thời gian"
            Layout.fillWidth: true; Layout.preferredHeight: ui.target * 3
            onClicked: vm.show("procedures")
        }
        KButton {
            objectName: "menu-dossier"
            text: win.en ? "My dossier's status" : "Tình trạng hồ sơ của tôi"
            Layout.fillWidth: true; Layout.preferredHeight: ui.target * 3
            onClicked: vm.show("dossier")
        }
        Item { Layout.fillHeight: true }
    }

    // --- procedures ---------------------------------------------------------------------------------
    ColumnLayout {
        anchors.fill: parent
        visible: vm.screen === "procedures"
        spacing: win.gap
        TextField {
            objectName: "procedureSearch"
            Layout.fillWidth: true; Layout.preferredHeight: ui.target
            placeholderText: win.en ? "Search procedures…" : "Tìm thủ tục…"
            font.pixelSize: ui.font; color: win.fg
            background: Rectangle { color: win.card; border.color: win.accent; border.width: 2; radius: 8 }
            onTextEdited: vm.setSearch(text)
        }
        Flickable {
            Layout.fillWidth: true; Layout.fillHeight: true
            clip: true
            contentHeight: procList.implicitHeight
            ColumnLayout {
                id: procList
                width: parent.width
                spacing: win.gap
                Repeater {
                    model: vm.procedures
                    delegate: KButton {
                        objectName: "procedure-" + modelData.code
                        Layout.fillWidth: true
                        text: modelData.name + "\n" + modelData.field
                        onClicked: vm.openProcedure(modelData.code)
                    }
                }
            }
        }
        KButton { objectName: "back-procedures"; text: win.en ? "Back" : "Quay lại"; primary: true; Layout.alignment: Qt.AlignHCenter; Layout.preferredWidth: ui.target * 5; onClicked: vm.goHome() }
    }

    // --- one procedure ------------------------------------------------------------------------------
    ColumnLayout {
        anchors.fill: parent
        visible: vm.screen === "procedure"
        spacing: win.gap
        Label { objectName: "procedureName"; text: vm.procedure.name || ""; color: win.accent; font.bold: true; font.pixelSize: Math.round(ui.font * 1.3); wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { text: (win.en ? "Field: " : "Lĩnh vực: ") + (vm.procedure.field || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { text: win.en ? "Documents required:" : "Thành phần hồ sơ:"; color: win.fg; font.bold: true }
        Repeater {
            model: vm.procedure.documents || []
            delegate: Label { text: "•  " + modelData; color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        }
        Label { objectName: "procedureFee"; text: (win.en ? "Fee: " : "Lệ phí: ") + (vm.procedure.fee || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { text: (win.en ? "Processing time: " : "Thời hạn giải quyết: ") + (vm.procedure.time || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { text: (win.en ? "Counters: " : "Nộp hồ sơ tại: ") + (vm.procedure.counters || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { objectName: "procedureCollect"; visible: (vm.procedure.collect || "") !== ""; text: (win.en ? "Collect the result at: " : "Nhận kết quả tại: ") + (vm.procedure.collect || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { objectName: "procedureAgency"; visible: (vm.procedure.agency || "") !== ""; text: (win.en ? "Decided by: " : "Cơ quan thực hiện: ") + (vm.procedure.agency || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Item { Layout.fillHeight: true }
        KButton { objectName: "back-procedure"; text: win.en ? "Back" : "Quay lại"; primary: true; Layout.alignment: Qt.AlignHCenter; Layout.preferredWidth: ui.target * 5; onClicked: vm.show("procedures") }
    }

    // --- dossier code -------------------------------------------------------------------------------
    ColumnLayout {
        anchors.fill: parent
        visible: vm.screen === "dossier" || vm.screen === "working"
        spacing: win.gap
        Label {
            text: win.en ? "Type the dossier code on your receipt, or hold its QR under the scanner"
                         : "Nhập mã hồ sơ trên giấy hẹn, hoặc đưa mã QR vào máy quét"
            Layout.fillWidth: true; wrapMode: Text.WordWrap; color: win.fg; font.bold: true
        }
        TextField {
            id: codeInput
            objectName: "codeInput"
            Layout.fillWidth: true; Layout.preferredHeight: ui.target * 1.2
            text: vm.code
            placeholderText: "H21.65-220914-0011"
            font.pixelSize: Math.round(ui.font * 1.2); color: win.fg
            inputMethodHints: Qt.ImhUppercaseOnly
            property bool ownKeys: true  // the code keys below; no Vietnamese keyboard here
            background: Rectangle { color: win.card; border.color: win.accent; border.width: 2; radius: 8 }
        }
        Label { objectName: "lookupMessage"; visible: vm.message !== ""; text: vm.message; color: win.danger; wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { visible: vm.screen === "working"; text: win.en ? "Looking it up…" : "Đang tra cứu…"; color: win.fg }
        GridLayout {
            Layout.fillWidth: true
            columns: win.landscape ? 20 : 10
            columnSpacing: win.gap / 2
            rowSpacing: win.gap / 2
            Repeater {
                model: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-".split("").concat(["⌫"])
                delegate: KButton {
                    objectName: "key-" + modelData
                    small: true
                    text: modelData
                    Layout.fillWidth: true
                    onClicked: codeInput.text = modelData === "⌫" ? codeInput.text.slice(0, -1) : codeInput.text + modelData
                }
            }
        }
        RowLayout {
            Layout.fillWidth: true
            spacing: win.gap
            KButton { objectName: "back-dossier"; text: win.en ? "Back" : "Quay lại"; Layout.fillWidth: true; onClicked: vm.goHome() }
            KButton { objectName: "lookUp"; text: win.en ? "Look up" : "Tra cứu"; primary: true; Layout.fillWidth: true; enabled: vm.screen === "dossier"; onClicked: vm.lookUp(codeInput.text) }
        }
        Item { Layout.fillHeight: true }
    }

    // --- result -------------------------------------------------------------------------------------
    ColumnLayout {
        anchors.fill: parent
        visible: vm.screen === "result"
        spacing: win.gap
        Label { text: (win.en ? "Dossier " : "Hồ sơ ") + (vm.result.code || ""); color: win.fg; font.bold: true }
        Label { objectName: "dossierProcedure"; visible: (vm.result.procedure || "") !== ""; text: vm.result.procedure || ""; color: win.fg; font.pixelSize: Math.round(ui.font * 1.2); wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label { objectName: "dossierStatus"; text: vm.result.status || ""; color: win.accent; font.bold: true; font.pixelSize: Math.round(ui.font * 1.5); wrapMode: Text.WordWrap; Layout.fillWidth: true }
        Label {
            objectName: "dossierAppointment"
            visible: (vm.result.appointment || "") !== ""
            text: (win.en ? "Result due: " : "Hẹn trả kết quả: ") + (vm.result.appointment || "")
            color: win.fg; font.pixelSize: Math.round(ui.font * 1.2); wrapMode: Text.WordWrap; Layout.fillWidth: true
        }
        Label {
            objectName: "dossierCollect"
            visible: (vm.result.collect || "") !== ""
            text: (win.en ? "Collect it at: " : "Nhận kết quả tại: ") + (vm.result.collect || "")
            color: win.fg; font.pixelSize: Math.round(ui.font * 1.2); wrapMode: Text.WordWrap; Layout.fillWidth: true
        }
        Item { Layout.fillHeight: true }
        KButton { objectName: "back-result"; text: win.en ? "Done" : "Xong"; primary: true; Layout.alignment: Qt.AlignHCenter; Layout.preferredWidth: ui.target * 5; onClicked: vm.goHome() }
    }
}
