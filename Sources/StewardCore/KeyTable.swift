/// A hash table from strings to small values (person indices, interned values, matches), for
/// the millions of lookups a plan makes.
///
/// Compared with `Dictionary<String, Value>` it hashes with a cheap unseeded function over the
/// UTF-8 bytes instead of seeded SipHash over normalized text, keeps hashes in one flat array so
/// a probe rarely touches a key, and can ignore ASCII case without lowercasing (allocating) the
/// probe. Only values from the HR feed are inserted and the table doubles before it is half
/// full, so probe chains stay short; account values are only looked up, which cannot lengthen
/// them.
struct KeyTable<Value: Sendable>: Sendable {
    /// Hash with the top bit set, or 0 for an empty slot.
    private var hashes: [UInt64]
    /// nil exactly where `hashes` is 0.
    private var values: [Value?]
    private var keys: [String]
    private var mask: Int
    let ignoresCase: Bool
    private(set) var count = 0

    init(capacity: Int = 8, ignoresCase: Bool) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        hashes = [UInt64](repeating: 0, count: size)
        values = [Value?](repeating: nil, count: size)
        keys = [String](repeating: "", count: size)
        mask = size - 1
        self.ignoresCase = ignoresCase
    }

    /// The value stored under `key`.
    func find(_ key: String) -> Value? {
        let h = KeyTable.hash(key, ignoresCase: ignoresCase)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let stored = hashes[slot]
            if stored == 0 { return nil }
            if stored == h && matches(slot, key) { return values[slot] }
            slot = (slot + 1) & mask
        }
    }

    /// The value under `key`, inserting `value` first when the key is new.
    mutating func findOrInsert(_ key: String, _ value: Value) -> Value {
        let (slot, existing) = locate(key)
        if let existing { return existing }
        store(key, value, at: slot)
        return value
    }

    /// Sets the value under `key` to `merge(current)`, or to `value` when the key is new.
    mutating func insert(_ key: String, _ value: Value, merge: (Value) -> Value) {
        let (slot, existing) = locate(key)
        if let existing {
            values[slot] = merge(existing)
        } else {
            store(key, value, at: slot)
        }
    }

    /// The slot holding `key` with its value, or the empty slot where it would go.
    private mutating func locate(_ key: String) -> (slot: Int, existing: Value?) {
        if (count + 1) * 2 > hashes.count { grow() }
        let h = KeyTable.hash(key, ignoresCase: ignoresCase)
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let stored = hashes[slot]
            if stored == 0 { return (slot, nil) }
            if stored == h && matches(slot, key) { return (slot, values[slot]) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func store(_ key: String, _ value: Value, at slot: Int) {
        hashes[slot] = KeyTable.hash(key, ignoresCase: ignoresCase)
        keys[slot] = key
        values[slot] = value
        count += 1
    }

    private mutating func grow() {
        let oldHashes = hashes, oldValues = values, oldKeys = keys
        let size = hashes.count * 2
        hashes = [UInt64](repeating: 0, count: size)
        values = [Value?](repeating: nil, count: size)
        keys = [String](repeating: "", count: size)
        mask = size - 1
        for i in oldHashes.indices where oldHashes[i] != 0 {
            var slot = Int(truncatingIfNeeded: oldHashes[i]) & mask
            while hashes[slot] != 0 { slot = (slot + 1) & mask }
            hashes[slot] = oldHashes[i]
            values[slot] = oldValues[i]
            keys[slot] = oldKeys[i]
        }
    }

    private func matches(_ slot: Int, _ key: String) -> Bool {
        ignoresCase ? keys[slot].equalsIgnoringCase(key) : keys[slot] == key
    }

    /// FNV-1a over the UTF-8 bytes (ASCII letters folded when ignoring case), then a final mix
    /// so the low bits that pick the slot depend on every byte.
    static func hash(_ text: String, ignoresCase: Bool) -> UInt64 {
        let h = text.utf8.withContiguousStorageIfAvailable { hash($0, ignoresCase: ignoresCase) }
        return h ?? hash(Array(text.utf8), ignoresCase: ignoresCase)
    }

    private static func hash(_ bytes: some Collection<UInt8>, ignoresCase: Bool) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for var b in bytes {
            if ignoresCase && b &- 65 < 26 { b += 32 }
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h | (1 << 63)
    }
}
