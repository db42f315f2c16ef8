import StewardJSON

/// How `Page.pdf` prints: paper, margins, header and footer, and how long printing may take.
///
/// The defaults are what `pdf(landscape:)` always did: the page's own CSS `@page` size wins,
/// backgrounds are printed, no header or footer.
public struct PDFOptions: Sendable {
    /// Paper size in inches, used when the page's CSS does not set one (or `preferCSSPageSize` is off).
    public var paper: Paper = .letter
    public var landscape = false
    /// Margins in inches; nil leaves Chromium's default (about 0.4 in), or the page's `@page` margins.
    public var margins: Margins?
    public var printBackground = true
    /// Whether a CSS `@page { size: ... }` overrides `paper`.
    public var preferCSSPageSize = true
    /// HTML for the header and footer, with Chromium's placeholders (`<span class="pageNumber">`,
    /// `totalPages`, `date`, `title`, `url`). Either one turns both on; the other is left empty.
    public var headerTemplate: String?
    public var footerTemplate: String?
    /// PDF bookmarks from the document's headings, so a long report can be navigated.
    public var outline = false
    /// How long printing may take; nil is the browser's command timeout. Long documents need more.
    public var timeout: Duration?

    public init() {}

    public struct Paper: Sendable, Equatable {
        public var width: Double
        public var height: Double

        public init(width: Double, height: Double) {
            self.width = width
            self.height = height
        }

        public static let a4 = Paper(width: 8.27, height: 11.69)
        public static let letter = Paper(width: 8.5, height: 11)
    }

    public struct Margins: Sendable, Equatable {
        public var top, right, bottom, left: Double

        public init(top: Double, right: Double, bottom: Double, left: Double) {
            self.top = top
            self.right = right
            self.bottom = bottom
            self.left = left
        }

        /// The same margin on every side.
        public init(_ all: Double) { self.init(top: all, right: all, bottom: all, left: all) }
    }

    /// The parameters of `Page.printToPDF`.
    var parameters: JSONValue {
        var p: [String: JSONValue] = [
            "landscape": .bool(landscape),
            "printBackground": .bool(printBackground),
            "preferCSSPageSize": .bool(preferCSSPageSize),
            "paperWidth": .double(paper.width),
            "paperHeight": .double(paper.height),
        ]
        if let margins {
            p["marginTop"] = .double(margins.top)
            p["marginRight"] = .double(margins.right)
            p["marginBottom"] = .double(margins.bottom)
            p["marginLeft"] = .double(margins.left)
        }
        if headerTemplate != nil || footerTemplate != nil {
            p["displayHeaderFooter"] = true
            // An empty template prints Chromium's default (date and title), so "nothing" is an empty span.
            p["headerTemplate"] = .string(headerTemplate ?? "<span></span>")
            p["footerTemplate"] = .string(footerTemplate ?? "<span></span>")
        }
        if outline {
            p["generateTaggedPDF"] = true
            p["generateDocumentOutline"] = true
        }
        return .object(p)
    }
}
