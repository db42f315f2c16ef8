/// How a page answers `alert`, `confirm`, `prompt` and "leave this page?" dialogs.
///
/// An open dialog freezes the page (no input, no script) until it is answered, so dialogs are
/// always answered at once, on the reader's side, by the page's policy.
public enum DialogPolicy: Sendable {
    /// Answer OK; prompts receive `promptText` (or their default text when nil).
    case accept(promptText: String? = nil)
    /// Answer Cancel to `confirm` and `prompt`. Alerts and "leave this page?" are still accepted,
    /// since cancelling them can only stall the automation.
    case dismiss
    /// Let the caller decide per dialog. Runs off the reader thread; keep it quick.
    case decide(@Sendable (Dialog) -> DialogResponse)
}

/// A dialog the page opened, as answered. Kept in `Page.dialogs` for the caller to inspect.
public struct Dialog: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case alert, confirm, prompt, beforeunload
    }

    public var kind: Kind
    public var message: String
    public var defaultPrompt: String
    /// The answer given; filled in once answered.
    public var accepted: Bool

    public init(kind: Kind, message: String, defaultPrompt: String = "", accepted: Bool = false) {
        self.kind = kind
        self.message = message
        self.defaultPrompt = defaultPrompt
        self.accepted = accepted
    }
}

public enum DialogResponse: Sendable, Equatable {
    case accept(promptText: String? = nil)
    case dismiss
}

extension DialogPolicy {
    /// The answer this policy gives to `dialog`.
    func response(to dialog: Dialog) -> DialogResponse {
        switch self {
        case .accept(let text):
            return .accept(promptText: text)
        case .dismiss:
            return dialog.kind == .alert || dialog.kind == .beforeunload ? .accept() : .dismiss
        case .decide(let decide):
            return decide(dialog)
        }
    }

    var runsCallerCode: Bool {
        if case .decide = self { return true }
        return false
    }
}
