/// A key press such as `Enter`, `Tab`, `a` or `Control+A`, as DevTools key events.
struct KeyStroke {
    struct Key {
        var key: String
        var code: String
        var keyCode: Int
        var text: String?
    }

    let modifiers: [Key]
    let key: Key
    /// The DevTools modifier bit mask: Alt 1, Control 2, Meta 4, Shift 8.
    let modifierMask: Int

    init(_ combination: String) throws(DevToolsError) {
        let names = combination == "+" ? ["+"] : combination.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        guard let last = names.last, !last.isEmpty else { throw .actionFailed(action: "press", reason: "empty key '\(combination)'") }
        var modifiers: [Key] = []
        var mask = 0
        for name in names.dropLast() {
            guard let (key, bit) = Self.modifier(name) else {
                throw .actionFailed(action: "press", reason: "unknown modifier '\(name)' in '\(combination)' (use Alt, Control, Meta or Shift)")
            }
            modifiers.append(key)
            mask |= bit
        }
        guard var key = Self.key(last, shifted: mask & 8 != 0) else {
            throw .actionFailed(action: "press", reason: "unknown key '\(last)' (use a single character or a name like Enter, Tab, Escape, ArrowDown)")
        }
        if mask & (2 | 4) != 0 { key.text = nil }  // shortcuts type nothing
        self.modifiers = modifiers
        self.key = key
        self.modifierMask = mask
    }

    private static func modifier(_ name: String) -> (Key, Int)? {
        switch name {
        case "Alt": return (Key(key: "Alt", code: "AltLeft", keyCode: 18), 1)
        case "Control", "Ctrl": return (Key(key: "Control", code: "ControlLeft", keyCode: 17), 2)
        case "Meta", "Command": return (Key(key: "Meta", code: "MetaLeft", keyCode: 91), 4)
        case "Shift": return (Key(key: "Shift", code: "ShiftLeft", keyCode: 16), 8)
        default: return nil
        }
    }

    private static let named: [String: Key] = {
        var keys: [String: Key] = [
            "Enter": Key(key: "Enter", code: "Enter", keyCode: 13, text: "\r"),
            "Tab": Key(key: "Tab", code: "Tab", keyCode: 9),
            "Escape": Key(key: "Escape", code: "Escape", keyCode: 27),
            "Backspace": Key(key: "Backspace", code: "Backspace", keyCode: 8),
            "Delete": Key(key: "Delete", code: "Delete", keyCode: 46),
            "Insert": Key(key: "Insert", code: "Insert", keyCode: 45),
            "Space": Key(key: " ", code: "Space", keyCode: 32, text: " "),
            "ArrowUp": Key(key: "ArrowUp", code: "ArrowUp", keyCode: 38),
            "ArrowDown": Key(key: "ArrowDown", code: "ArrowDown", keyCode: 40),
            "ArrowLeft": Key(key: "ArrowLeft", code: "ArrowLeft", keyCode: 37),
            "ArrowRight": Key(key: "ArrowRight", code: "ArrowRight", keyCode: 39),
            "Home": Key(key: "Home", code: "Home", keyCode: 36),
            "End": Key(key: "End", code: "End", keyCode: 35),
            "PageUp": Key(key: "PageUp", code: "PageUp", keyCode: 33),
            "PageDown": Key(key: "PageDown", code: "PageDown", keyCode: 34),
        ]
        for n in 1...12 { keys["F\(n)"] = Key(key: "F\(n)", code: "F\(n)", keyCode: 111 + n) }
        return keys
    }()

    private static func key(_ name: String, shifted: Bool) -> Key? {
        if let key = named[name] { return key }
        guard name.count == 1, let character = name.first else { return nil }
        if character.isLetter, let ascii = character.uppercased().unicodeScalars.first, ascii.isASCII {
            let text = shifted ? character.uppercased() : String(character)
            return Key(key: text, code: "Key\(character.uppercased())", keyCode: Int(ascii.value), text: text)
        }
        if character.isASCII, let digit = character.wholeNumberValue {
            return Key(key: name, code: "Digit\(digit)", keyCode: 48 + digit, text: name)
        }
        return Key(key: name, code: "", keyCode: 0, text: name)
    }
}
