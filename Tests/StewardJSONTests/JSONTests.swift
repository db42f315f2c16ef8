import StewardJSON
import Testing

@Suite("JSON parser, writer and scanner")
struct JSONTests {
    @Test(arguments: [
        ("null", JSONValue.null), ("true", .bool(true)), ("false", .bool(false)), ("0", .int(0)), ("-12", .int(-12)),
        ("1.5", .double(1.5)), ("1e3", .double(1000)), ("-0.25E-2", .double(-0.0025)), ("\"a\\\"b\"", .string("a\"b")),
        ("\"\\u00e9\\n\\t\\/\"", .string("é\n\t/")), ("\"\\ud83d\\ude00\"", .string("😀")), ("[]", .array([])), ("{}", .object([:])),
        (" [1, {\"a\": [null]}] ", .array([.int(1), .object(["a": .array([.null])])])),
        ("92233720368547758080", .double(92233720368547758080)),
    ])
    func parsesValidJSON(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: [
        "", "nul", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "\"abc", "\"a\nb\"", "{'a':1}", "{a:1}", "[1 2]",
        "\"\\x\"", "\"\\ud83d\"", "{\"a\":1}{", "NaN", "// c\n1", "{\"a\":1,\"a\":2}",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func errorsNameLineAndColumn() {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": tru\n}") }
        #expect(error?.line == 3)
        #expect(error?.column == 8)
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func json5ForHandWrittenConfigs() throws {
        let text = """
            // a comment
            {
              state: '.steward',   /* inline */
              apps: [ { id: "crm", limit: 0x10, ratio: .5, }, ],
              "quoted": +1,
            }
            """
        let (value, lines) = try JSONParser.parseWithLines(Array(text.utf8), options: .json5)
        #expect(value["state"] == .string(".steward"))
        #expect(value["apps"].arrayValue?.first?["limit"] == .int(16))
        #expect(value["apps"].arrayValue?.first?["ratio"] == .double(0.5))
        #expect(value["quoted"] == .int(1))
        #expect(lines["apps[0].id"] == 4)
        #expect(lines["quoted"] == 5)
    }

    @Test func writerRoundTripsRandomValues() throws {
        var rng = SplitMix(seed: 42)
        for _ in 0..<500 {
            let value = randomValue(&rng, depth: 0)
            let text = JSONWriter.string(value)
            #expect(!text.contains("\n"))
            #expect(try JSONParser.parse(text) == value)
            #expect(try JSONParser.parse(JSONWriter.pretty(value)) == value)
        }
    }

    @Test func scannerReadsMembersWithoutDictionaries() throws {
        let text = Array(#"{"id": "u1", "n": 3, "skip": {"deep": [1, "x]"]}, "esc\"key": "v\u00e9", "list": [true, null]}"#.utf8)
        var seen: [String: JSONValue] = [:]
        try text.withUnsafeBufferPointer { buffer in
            var s = JSONScanner(buffer)
            try s.forEachMember { s, key in
                let k = String(decoding: key, as: UTF8.self)
                if key.equals("skip") {
                    try s.skipValue()
                } else {
                    seen[k] = try s.readValue()
                }
            }
            let ended = s.atEnd()
            #expect(ended)
        }
        #expect(seen == ["id": "u1", "n": 3, "esc\"key": "vé", "list": [true, nil]])
    }

    @Test func scannerRejectsBrokenStructure() {
        for bad in [#"{"a": [1, 2}"#, #"{"a": "x"#, #"{"a" 1}"#] {
            let bytes = Array(bad.utf8)
            #expect(throws: (any Error).self) {
                try bytes.withUnsafeBufferPointer { buffer in
                    var s = JSONScanner(buffer)
                    try s.forEachMember { s, _ in try s.skipValue() }
                }
            }
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

func randomValue(_ rng: inout SplitMix, depth: Int) -> JSONValue {
    switch rng.below(depth > 3 ? 5 : 7) {
    case 0: return .null
    case 1: return .bool(rng.below(2) == 0)
    case 2: return .int(Int(bitPattern: UInt(rng.next())) >> rng.below(60))
    case 3: return .double(Double(rng.below(1_000_000)) + 0.25)
    case 4:
        let alphabet: [Character] = ["a", "\"", "\\", "\n", "\t", "é", "😀", "\u{01}", " ", "/", "}"]
        return .string(String((0..<rng.below(12)).map { _ in alphabet[rng.below(alphabet.count)] }))
    case 5: return .array((0..<rng.below(5)).map { _ in randomValue(&rng, depth: depth + 1) })
    default:
        var o: [String: JSONValue] = [:]
        for i in 0..<rng.below(5) { o["k\(i)\(rng.below(3) == 0 ? "\"é" : "")"] = randomValue(&rng, depth: depth + 1) }
        return .object(o)
    }
}
