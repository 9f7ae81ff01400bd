// Ticket dispenser: one touch on a service gives a ticket (two with a priority group).
// Large targets, plain words, Vietnamese and English; the QR on the ticket screen is also a ticket.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

KioskWindow {
    id: win
    title: "motcua — máy lấy số"
    offlineMark: vm.offlineMark
    paperMark: vm.paperMark

    // --- home: priority groups, search, services grouped by field ---------------------------------
    ColumnLayout {
        objectName: "homeView"
        anchors.fill: parent
        visible: vm.screen === "home" || vm.screen === "working"
        spacing: win.gap

        Label {
            text: ui.t.choose
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.WordWrap
            font.pixelSize: Math.round(ui.font * 1.4)
            font.bold: true
            color: win.fg
        }

        // The priority groups: a heading, then one line of help under it, then the toggles.
        ColumnLayout {
            objectName: "priorityHeader"
            Layout.fillWidth: true
            Layout.topMargin: win.gap / 2
            spacing: win.gap / 4
            Label {
                objectName: "priorityTitle"
                text: ui.t.priority
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                color: win.accent
                font.bold: true
                font.pixelSize: Math.round(ui.font * 0.95)
            }
            Label {
                objectName: "priorityHint"
                text: ui.t.priority_hint
                Layout.fillWidth: true
                wrapMode: Text.WordWrap
                color: win.fg
                font.pixelSize: Math.round(ui.font * 0.75)
            }
        }
        Flow {
            Layout.fillWidth: true
            spacing: win.gap
            Repeater {
                model: vm.priorities
                delegate: KButton {
                    objectName: "priority-" + modelData.code
                    small: true
                    text: modelData.name
                    checked: vm.priority === modelData.code
                    onClicked: vm.choosePriority(modelData.code)
                }
            }
        }

        TextField {
            objectName: "search"
            Layout.fillWidth: true
            Layout.preferredHeight: ui.target
            placeholderText: ui.t.search
            text: vm.searchText
            font.pixelSize: ui.font
            color: win.fg
            placeholderTextColor: ui.highContrast ? "#cccccc" : "#666666"
            background: Rectangle { color: win.card; border.color: win.accent; border.width: 2; radius: 8 }
            onTextEdited: vm.setSearch(text)
        }

        Flickable {
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            contentHeight: groupsColumn.implicitHeight
            ColumnLayout {
                id: groupsColumn
                width: parent.width
                spacing: win.gap
                Label {
                    visible: vm.groups.length === 0
                    text: ui.t.no_match
                    color: win.fg
                }
                Repeater {
                    model: vm.groups
                    delegate: ColumnLayout {
                        required property var modelData
                        Layout.fillWidth: true
                        spacing: win.gap / 2
                        Label {
                            text: modelData.name
                            color: win.accent
                            font.bold: true
                            font.pixelSize: Math.round(ui.font * 0.9)
                        }
                        GridLayout {
                            Layout.fillWidth: true
                            columns: win.landscape ? 3 : 1
                            columnSpacing: win.gap
                            rowSpacing: win.gap
                            Repeater {
                                model: modelData.services
                                delegate: KButton {
                                    objectName: modelData.procedure ? "procedure-" + modelData.procedure : "service-" + modelData.code
                                    Layout.fillWidth: true
                                    Layout.preferredHeight: Math.max(ui.target * 2, implicitHeight)
                                    enabled: vm.screen === "home"
                                    primary: vm.priority !== ""
                                    text: modelData.name
                                    onClicked: vm.takeTicket(modelData.code)
                                }
                            }
                        }
                    }
                }
            }
        }

        Label {
            objectName: "workingNote"
            visible: vm.screen === "working"
            text: ui.t.working
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            color: win.fg
        }
    }

    // --- ticket: number, counters, waiting, estimate, QR (also the virtual ticket) ------------------
    GridLayout {
        objectName: "ticketView"
        anchors.fill: parent
        visible: vm.screen === "ticket"
        columns: win.landscape ? 2 : 1
        columnSpacing: win.gap * 2
        rowSpacing: win.gap

        ColumnLayout {
            Layout.fillWidth: true
            Layout.alignment: Qt.AlignTop
            spacing: win.gap / 2
            Label { text: ui.t.your_number; color: win.fg; font.pixelSize: Math.round(ui.font * 1.2); Layout.alignment: Qt.AlignHCenter }
            Label {
                objectName: "ticketNumber"
                text: vm.ticket.number || ""
                color: win.accent
                font.pixelSize: Math.round(ui.font * 5)
                font.bold: true
                Layout.alignment: Qt.AlignHCenter
            }
            Label {
                objectName: "ticketPriority"
                visible: (vm.ticket.priority || "") !== ""
                text: ui.t.priority_on + ": " + (vm.ticket.priority || "")
                color: win.accent
                font.bold: true
                Layout.alignment: Qt.AlignHCenter
            }
            Label { text: ui.t.field + ": " + (vm.ticket.service || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true; horizontalAlignment: Text.AlignHCenter }
            Label { text: ui.t.counters + ": " + (vm.ticket.counters || ""); color: win.fg; wrapMode: Text.WordWrap; Layout.fillWidth: true; horizontalAlignment: Text.AlignHCenter }
            Label {
                visible: !vm.ticket.offline
                text: ui.t.waiting + ": " + (vm.ticket.waiting || 0)
                color: win.fg; Layout.alignment: Qt.AlignHCenter
            }
            Label {
                objectName: "waitEstimate"
                visible: (vm.ticket.wait || "") !== ""
                text: ui.t.wait + ": " + (vm.ticket.wait || "")  // the view-model's words, as on the ticket
                color: win.fg; Layout.alignment: Qt.AlignHCenter
            }
            Label {
                objectName: "offlineNote"
                visible: vm.ticket.offline === true
                text: ui.t.offline
                color: win.danger; wrapMode: Text.WordWrap; Layout.fillWidth: true; horizontalAlignment: Text.AlignHCenter
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            spacing: win.gap / 2
            Image {
                objectName: "qr"
                source: vm.ticket.qr || ""
                Layout.preferredWidth: ui.target * (vm.ticket.virtual ? 5 : 3.5)
                Layout.preferredHeight: Layout.preferredWidth
                Layout.alignment: Qt.AlignHCenter
                smooth: false
                fillMode: Image.PreserveAspectFit
            }
            Label {
                objectName: "ticketNote"
                text: vm.ticket.virtual ? ui.t.virtual : ui.t.printing
                color: vm.ticket.virtual ? win.danger : win.fg
                font.bold: vm.ticket.virtual === true
                wrapMode: Text.WordWrap
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignHCenter
            }
            Label {
                objectName: "ticketLink"
                visible: vm.ticket.virtual === true && (vm.ticket.link || "") !== ""
                text: ui.t.virtual_link + "\n" + (vm.ticket.link || "")
                color: win.fg
                font.pixelSize: Math.round(ui.font * 0.8)
                wrapMode: Text.WrapAnywhere
                Layout.fillWidth: true
                horizontalAlignment: Text.AlignHCenter
            }
            KButton {
                objectName: "done"
                primary: true
                text: ui.t.done
                Layout.preferredWidth: ui.target * 5
                Layout.preferredHeight: ui.target * 1.5
                Layout.alignment: Qt.AlignHCenter
                onClicked: vm.goHome()
            }
        }
    }

    // --- refusals: out of hours, sold out, errors --------------------------------------------------
    ColumnLayout {
        objectName: "errorView"
        anchors.fill: parent
        visible: vm.screen === "error"
        spacing: win.gap * 2
        Item { Layout.fillHeight: true }
        Label {
            objectName: "errorMessage"
            text: vm.errorMessage
            wrapMode: Text.WordWrap
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            font.pixelSize: Math.round(ui.font * 1.3)
            color: win.danger
        }
        KButton {
            objectName: "back"
            primary: true
            text: ui.t.back
            Layout.preferredWidth: ui.target * 5
            Layout.preferredHeight: ui.target * 1.5
            Layout.alignment: Qt.AlignHCenter
            onClicked: vm.goHome()
        }
        Item { Layout.fillHeight: true }
    }
}
