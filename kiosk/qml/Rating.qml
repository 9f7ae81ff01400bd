// Rating tablet of one counter: the officer on duty and the ticket served; after the clerk finishes,
// one tap rates the service (3 or 5 levels), optional questions follow, then thanks; a rating the
// server refused shows why, in plain words, instead of the thanks.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

KioskWindow {
    id: win
    title: "motcua — đánh giá " + vm.counterName

    ColumnLayout {
        anchors.fill: parent
        spacing: win.gap

        RowLayout {
            objectName: "officerView"
            Layout.fillWidth: true
            spacing: win.gap
            visible: vm.officer.name !== ""
            Image {
                objectName: "officerPhoto"
                visible: vm.officer.photo !== ""
                source: vm.officer.photo
                Layout.preferredWidth: ui.target * 2.5
                Layout.preferredHeight: ui.target * 3
                fillMode: Image.PreserveAspectCrop
            }
            ColumnLayout {
                Layout.fillWidth: true
                Label { objectName: "officerName"; text: vm.officer.name; color: win.fg; font.bold: true; font.pixelSize: Math.round(ui.font * 1.3) }
                Label { text: (vm.officer.title ? vm.officer.title + " · " : "") + vm.counterName; color: win.fg }
            }
        }

        Label {
            objectName: "servingNumber"
            visible: vm.screen === "serving" || vm.screen === "rate"
            text: vm.number
            color: win.accent
            font.bold: true
            font.pixelSize: Math.round(ui.font * (vm.screen === "serving" ? 4 : 2))
            Layout.alignment: Qt.AlignHCenter
        }

        Label {
            objectName: "prompt"
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            color: win.fg
            font.pixelSize: Math.round(ui.font * 1.3)
            font.bold: true
            text: vm.screen === "rate" ? (ui.lang === "en" ? "How satisfied are you with our service?" : "Quý vị có hài lòng với sự phục vụ?")
                : vm.screen === "questions" ? (ui.lang === "en" ? "A few more questions (optional)" : "Thêm vài câu hỏi (không bắt buộc)")
                : vm.screen === "thanks" ? (ui.lang === "en" ? "Thank you!" : "Xin cảm ơn quý vị!")
                : vm.screen === "refused" ? vm.notice
                : vm.screen === "serving" ? (ui.lang === "en" ? "Now serving" : "Đang phục vụ số")
                : (ui.lang === "en" ? "Welcome" : "Xin kính chào quý vị")
        }

        GridLayout {
            objectName: "levels"
            visible: vm.screen === "rate"
            Layout.fillWidth: true
            columns: win.landscape ? vm.levels.length : 1
            columnSpacing: win.gap
            rowSpacing: win.gap
            Repeater {
                model: vm.levels
                delegate: KButton {
                    objectName: "rate-" + modelData.score
                    Layout.fillWidth: true
                    Layout.preferredWidth: 1  // equal widths: no level looks like the expected answer
                    Layout.preferredHeight: ui.target * 2.5
                    text: modelData.label
                    onClicked: vm.rate(modelData.score)
                }
            }
        }

        ColumnLayout {
            objectName: "questionsView"
            visible: vm.screen === "questions"
            Layout.fillWidth: true
            spacing: win.gap
            Repeater {
                model: vm.questions
                delegate: ColumnLayout {
                    required property var modelData
                    readonly property var question: modelData
                    Layout.fillWidth: true
                    Label { text: question.text; color: win.fg; font.bold: true }
                    Flow {
                        Layout.fillWidth: true
                        spacing: win.gap
                        Repeater {
                            model: vm.levels
                            delegate: KButton {
                                objectName: "answer-" + question.id + "-" + modelData.score
                                small: true
                                checked: question.answer === modelData.score
                                text: modelData.label
                                onClicked: vm.answer(question.id, modelData.score)
                            }
                        }
                    }
                }
            }
            KButton {
                objectName: "submit"
                primary: true
                text: ui.lang === "en" ? "Send" : "Gửi đánh giá"
                Layout.preferredWidth: ui.target * 5
                Layout.alignment: Qt.AlignHCenter
                onClicked: vm.submit()
            }
        }

        Item { Layout.fillHeight: true }
    }
}
