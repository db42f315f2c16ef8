import Foundation
import StewardProtocol
import Testing

/// Every protocol line shown in docs/connector-protocol.md is valid, is read by the Swift types,
/// and, where the page says it was captured from the Python example, is still what it answers.
@Suite("The protocol document's transcripts")
struct TranscriptTests {
    let schemas: ProtocolSchemas
    let blocks: [TranscriptBlock]

    init() throws {
        schemas = try ProtocolSchemas()
        blocks = TranscriptBlock.all(in: try Repository.text(Repository.protocolDocument))
    }

    @Test func theDocumentShowsEveryMethodAndNotification() throws {
        var requested: Set<String> = []
        var notified: Set<String> = []
        for block in blocks {
            for line in block.lines {
                guard let message = try? JSONParser.parse(line.text), let method = message["method"].stringValue else { continue }
                if message.objectValue?["id"] != nil { requested.insert(method) } else { notified.insert(method) }
            }
        }
        #expect(Set(ProtocolSchemas.methods).subtracting(requested).isEmpty, "no example for \(Set(ProtocolSchemas.methods).subtracting(requested))")
        #expect(Set(ProtocolSchemas.notifications).subtracting(notified).isEmpty)
        #expect(blocks.contains { $0.replay != nil })
    }

    @Test func everyLineMatchesTheSchemasAndEveryRequestIsAnsweredOnce() throws {
        for block in blocks {
            var methods: [RequestID: String] = [:]
            var answered: [RequestID: Int] = [:]
            var expectedRejections: [(id: RequestID?, code: Int, at: Int)] = []
            for line in block.lines where line.direction == .toConnector {
                guard let message = try? JSONParser.parse(line.text) else {
                    expectedRejections.append((nil, RPCError.Code.parseError.rawValue, line.number))
                    continue
                }
                let id = RequestID(json: message["id"])
                if try !schemas.problems(message, against: "protocol/message.json").isEmpty {
                    expectedRejections.append((id, RPCError.Code.invalidRequest.rawValue, line.number))
                    continue
                }
                let problems = try schemas.problems(message: message)
                if let id, !problems.isEmpty, problems.allSatisfy({ $0.path.hasPrefix("params.") }) {
                    // Deliberately bad params, shown with the invalid-params answer they get.
                    expectedRejections.append((id, RPCError.Code.invalidParams.rawValue, line.number))
                } else {
                    #expect(problems.isEmpty, "docs/connector-protocol.md:\(line.number): \(problems)")
                }
                if let id, let method = message["method"].stringValue {
                    #expect(methods[id] == nil, "docs/connector-protocol.md:\(line.number): id \(id) reused within one example")
                    methods[id] = method
                }
            }
            for line in block.lines where line.direction == .fromConnector {
                let message = try JSONParser.parse(line.text)
                let id = RequestID(json: message["id"])
                var method: String?
                if let id, message["method"].isNull {
                    method = methods[id]
                    answered[id, default: 0] += 1
                    let rejection = expectedRejections.contains { $0.id == id }
                    #expect(method != nil || rejection, "docs/connector-protocol.md:\(line.number): answers id \(id), which no request in its example has")
                }
                if let code = message["error"]["code"].intValue {
                    expectedRejections.removeAll { $0.code == code && ($0.id == nil || $0.id == id) }
                }
                let problems = try schemas.problems(message: message, answering: method)
                #expect(problems.isEmpty, "docs/connector-protocol.md:\(line.number): \(problems)")
            }
            for (id, method) in methods {
                #expect(answered[id] == 1, "docs/connector-protocol.md:\(block.number): \(method) request \(id) is answered \(answered[id] ?? 0) times")
            }
            #expect(expectedRejections.isEmpty, "docs/connector-protocol.md: bad input at lines \(expectedRejections.map(\.at)) is not answered with its error")
        }
    }

    @Test func theSwiftTypesReadEveryLine() throws {
        for block in blocks {
            var methods: [RequestID: String] = [:]
            for line in block.lines {
                guard let message = try? JSONParser.parse(line.text),
                      try schemas.problems(message, against: "protocol/message.json").isEmpty else { continue }
                do {
                    switch try RPCMessage.decode(message) {
                    case .request(let id, let method, let params):
                        methods[id] = method
                        if try schemas.problems(message: message).isEmpty {
                            try Self.readParams(method, params)
                        } else {
                            #expect(throws: ConnectorError.self, "docs/connector-protocol.md:\(line.number): the schema rejects it, Swift must too") {
                                try Self.readParams(method, params)
                            }
                        }
                    case .notification(let method, let params):
                        try Self.readNotification(method, params)
                    case .response(let id, let result):
                        try Self.readResult(try #require(methods[id]), result)
                    case .errorResponse(_, let error):
                        if !error.data.isNull {
                            let e = try #require(ConnectorError(rpcError: error))
                            #expect(e.kind.rawValue == error.data["kind"].stringValue)
                        }
                    }
                } catch {
                    Issue.record("docs/connector-protocol.md:\(line.number): the Swift types cannot read it: \(error)")
                }
            }
        }
    }

    /// The page's other JSON examples: plugin manifests and a capabilities object.
    @Test func theJSONExamplesMatchTheirSchemas() throws {
        let examples = TranscriptBlock.jsonExamples(in: try Repository.text(Repository.protocolDocument))
        #expect(examples.count >= 3)
        for (number, text) in examples {
            let value = try JSONParser.parse(text)
            let schema = value["version"].isNull ? "protocol/defs.json#/$defs/Capabilities" : "plugin.schema.json"
            let problems = try schemas.problems(value, against: schema)
            #expect(problems.isEmpty, "docs/connector-protocol.md:\(number): \(problems)")
            if schema.hasPrefix("protocol/") { _ = try Capabilities(json: value, path: "capabilities") }
        }
    }

    @Test func theExampleConnectorStillAnswersAsTheTranscriptSays() throws {
        let replays = blocks.filter { $0.replay == "docs/examples/connector.py" }
        #expect(replays.count >= 2)
        for block in replays { try replay(block) }
    }

    /// Runs the block's requests through the example connector, one process per block.
    private func replay(_ block: TranscriptBlock) throws {
        let requests = block.lines.filter { $0.direction == .toConnector }.map(\.text)
        let expected = try block.lines.filter { $0.direction == .fromConnector }.map { try JSONParser.parse($0.text) }

        let output = try runPython(Repository.root.appendingPathComponent("docs/examples/connector.py"),
                                   input: requests.joined(separator: "\n") + "\n")
        let actual = try output.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(actual.count == expected.count)
        for (i, (got, want)) in zip(actual, expected).enumerated() {
            #expect(got == want, "answer \(i + 1) of the session at docs/connector-protocol.md:\(block.number) changed:\n got \(got)\nwant \(want)")
        }
    }

    private func runPython(_ script: URL, input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        var environment = ProcessInfo.processInfo.environment
        environment[connectorEnvironmentVariable] = ProtocolVersion.current.description
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the example connector exited with \(process.terminationStatus) at end of input")
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Reading with the Swift types

    private static func readParams(_ method: String, _ params: JSONValue) throws {
        switch method {
        case Method.initialize: _ = try InitializeParams(json: params, path: "params")
        case Method.shutdown, Method.ping, Method.validate: _ = try JSONFields(params, path: "params")
        case Method.personsList, Method.accountsList, Method.entitlementsList, Method.grantsList, Method.evidenceList:
            _ = try ListParams(json: params, path: "params")
        case Method.accountsGet: _ = try AccountGetParams(json: params, path: "params")
        case Method.accountsCreate: _ = try AccountCreateParams(json: params, path: "params")
        case Method.accountsUpdate: _ = try AccountUpdateParams(json: params, path: "params")
        case Method.accountsDisable, Method.accountsEnable, Method.accountsDelete: _ = try AccountRefParams(json: params, path: "params")
        case Method.grantsAdd, Method.grantsRemove: _ = try GrantChangeParams(json: params, path: "params")
        case Method.notifySend: _ = try NotifyParams(json: params, path: "params")
        default: throw SchemaTestError("no Swift type for the params of \(method)")
        }
    }

    private static func readResult(_ method: String, _ result: JSONValue) throws {
        switch method {
        case Method.initialize: _ = try InitializeResult(json: result, path: "result")
        case Method.shutdown, Method.ping: _ = try JSONFields(result, path: "result")
        case Method.validate: _ = try ValidateResult(json: result, path: "result")
        case Method.personsList: try readPage(result, of: Person.self)
        case Method.accountsList: try readPage(result, of: Account.self)
        case Method.entitlementsList: try readPage(result, of: Entitlement.self)
        case Method.grantsList: try readPage(result, of: Grant.self)
        case Method.evidenceList: _ = try Page<EvidenceRecord>(json: result, path: "result")
        case Method.accountsGet: _ = try AccountGetResult(json: result, path: "result")
        case Method.accountsCreate: _ = try AccountCreateResult(json: result, path: "result")
        default: _ = try MutationResult(json: result, path: "result")
        }
    }

    /// Through both decoders the host has: the general one and the byte scanner it lists with.
    private static func readPage<Item: JSONStreamable & Equatable>(_ result: JSONValue, of: Item.Type) throws {
        let general = try Page<Item>(json: result, path: "result")
        let fast = try JSONWriter.bytes(result).withUnsafeBufferPointer { try Page<Item>(bytes: $0, path: "result") }
        #expect(general == fast)
    }

    private static func readNotification(_ method: String, _ params: JSONValue) throws {
        switch method {
        case Notification.log: _ = try LogParams(json: params, path: "params")
        case Notification.progress: _ = try ProgressParams(json: params, path: "params")
        case Notification.rateLimit: _ = try RateLimitParams(json: params, path: "params")
        case Notification.cancel: _ = try CancelParams(json: params, path: "params")
        default: throw SchemaTestError("no Swift type for the notification \(method)")
        }
    }
}

/// One fenced block of `→`/`←` protocol lines in a Markdown document.
struct TranscriptBlock {
    enum Direction { case toConnector, fromConnector }

    struct Line {
        let direction: Direction
        let text: String
        /// The 1-based line number in the document.
        let number: Int
    }

    /// Where the block's fence opens.
    let number: Int
    /// The program named by a `<!-- replay: PATH -->` comment just before the fence.
    let replay: String?
    let lines: [Line]

    static func all(in markdown: String) -> [TranscriptBlock] {
        var blocks: [TranscriptBlock] = []
        var open: (number: Int, replay: String?, lines: [Line])?
        var previous = ""
        for (index, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(raw)
            if text.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                if let block = open {
                    if !block.lines.isEmpty { blocks.append(TranscriptBlock(number: block.number, replay: block.replay, lines: block.lines)) }
                    open = nil
                } else {
                    open = (index + 1, replayTarget(previous), [])
                }
            } else if open != nil {
                if text.hasPrefix("→ ") { open?.lines.append(Line(direction: .toConnector, text: String(text.dropFirst(2)), number: index + 1)) }
                if text.hasPrefix("← ") { open?.lines.append(Line(direction: .fromConnector, text: String(text.dropFirst(2)), number: index + 1)) }
            }
            if !text.trimmingCharacters(in: .whitespaces).isEmpty { previous = text }
        }
        return blocks
    }

    /// The ```json fenced blocks, with the line number of each opening fence.
    static func jsonExamples(in markdown: String) -> [(Int, String)] {
        var examples: [(Int, String)] = []
        var open: (number: Int, isJSON: Bool, lines: [String])?
        for (index, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = raw.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("```") {
                if let block = open {
                    if block.isJSON { examples.append((block.number, block.lines.joined(separator: "\n"))) }
                    open = nil
                } else {
                    open = (index + 1, text == "```json", [])
                }
            } else if open != nil {
                open?.lines.append(String(raw))
            }
        }
        return examples
    }

    private static func replayTarget(_ line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("<!-- replay:"), trimmed.hasSuffix("-->") else { return nil }
        return trimmed.dropFirst("<!-- replay:".count).dropLast(3).trimmingCharacters(in: .whitespaces)
    }
}
