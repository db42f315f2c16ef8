import Foundation
import StewardProtocol

/// The RFC 5322 text of one plain-text mail: headers, then the body in quoted-printable, lines
/// ending in CRLF. The Message-ID comes from the idempotency key, so a retried send is the same
/// message to any server that drops duplicates.
enum MailMessage {
    static func render(_ params: NotifyParams, from: String, date: Date = Date()) -> [UInt8] {
        let body = textWithLinks(params)
        let domain = from.split(separator: "@").last.map(String.init) ?? "steward.local"
        let headers = [
            "From: \(from)",
            "To: \(params.to)",
            "Subject: \(encodedWord(params.subject))",
            "Date: \(rfc5322(date))",
            "Message-ID: <\(params.idempotencyKey)@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "Auto-Submitted: auto-generated",
        ]
        let text = headers.joined(separator: "\r\n") + "\r\n\r\n" + quotedPrintable(body)
        return Array(text.utf8)
    }

    /// The text, then each link the text does not already show, as `label: url`.
    static func textWithLinks(_ params: NotifyParams) -> String {
        var body = params.text
        let missing = params.links.sorted { $0.key < $1.key }.filter { !params.text.contains($0.value) }
        if !missing.isEmpty {
            if !body.hasSuffix("\n") { body += "\n" }
            body += "\n" + missing.map { "\($0.key): \($0.value)" }.joined(separator: "\n") + "\n"
        }
        return body
    }

    /// The subject as is when it is printable ASCII, else as RFC 2047 base64 encoded-words
    /// (each at most 75 characters, split between whole characters).
    static func encodedWord(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return clean }
        var words: [String] = []
        var chunk = ""
        for character in clean {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    /// RFC 2045 §6.7: printable ASCII as is (but `=`), the rest as =XX, lines at most 76 with
    /// soft breaks, CRLF line ends, trailing spaces encoded.
    static func quotedPrintable(_ text: String) -> String {
        var out = ""
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            var current = ""
            let bytes = Array(line.utf8)
            for (i, byte) in bytes.enumerated() {
                let isLast = i == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != 61) || (byte == 32 && !isLast)
                let piece = literal ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
                if current.count + piece.count > 75 {
                    out += current + "=\r\n"
                    current = ""
                }
                current += piece
            }
            out += current
            if index < lines.count - 1 { out += "\r\n" }
        }
        return out
    }

    static func rfc5322(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}
