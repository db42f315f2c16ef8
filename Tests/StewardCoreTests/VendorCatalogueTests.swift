import Foundation
import StewardCore
import StewardProtocol
import Testing

/// The shipped vendor catalogue against card descriptors as statements print them: each finds
/// its vendor, or is recognised as not software, or is listed as unknown with a tidy name.
@Suite("Vendor catalogue")
struct VendorCatalogueTests {
    static let catalogue: VendorCatalogue = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("plugins/discovery/catalogue.json")
        do {
            let data = try Data(contentsOf: url)
            return try VendorCatalogue(json: JSONParser.parse([UInt8](data)), file: url.path)
        } catch {
            fatalError("plugins/discovery/catalogue.json: \(error)")
        }
    }()

    @Test func theCatalogueIsLargeAndWellFormed() {
        let software = Self.catalogue.vendors.filter { !$0.isNoise }
        #expect(software.count >= 300)
        #expect(Set(software.map { $0.name.lowercased() }).count == software.count, "names are unique")
        #expect(software.allSatisfy { !$0.domains.isEmpty && !$0.category.isEmpty }, "every vendor has a domain and a category")
    }

    /// Descriptors as card statements print them → the vendor's name, `noise:` for what is not
    /// software, `unknown:` with the merchant as listed.
    @Test(arguments: [
        ("ZOOM.US 888-799-9666 CA", "Zoom"), ("SQ *NOTION LABS", "Notion"), ("FIGMA* MONTHLY", "Figma"), ("FIGMA MONTHLY RENEWAL", "Figma"),
        ("MSFT*AZURE", "Microsoft Azure"), ("MSFT * E0400ABCD", "Microsoft 365"), ("MICROSOFT*365 BUSINESS", "Microsoft 365"),
        ("GOOGLE *GSUITE_ACME.COM", "Google Workspace"), ("GOOGLE*CLOUD 4LJ5KX", "Google Cloud"), ("GOOGLE *ADS1234567", "Google Ads"),
        ("ATLASSIAN* JIRA", "Atlassian"), ("SLACK T01ABCDEF", "Slack"), ("SLACK TECHNOLOGIES", "Slack"), ("DROPBOX*3L4K5J", "Dropbox"),
        ("ADOBE *ACROPRO SUBS", "Adobe"), ("ADOBE *CREATIVE CLOUD", "Adobe"), ("GITHUB, INC.", "GitHub"), ("GITHUB.COM 4BC7D", "GitHub"),
        ("LINKEDIN-P12345678", "LinkedIn"), ("LNKD*SALES NAV", "LinkedIn"), ("FACEBK *AB12CD34", "Meta Ads"), ("AWS EMEA", "Amazon Web Services"),
        ("AMAZON WEB SERVICES AWS.AMAZON.CO", "Amazon Web Services"), ("OPENAI *CHATGPT SUBSCR", "OpenAI"), ("CLAUDE.AI SUBSCRIPTION", "Anthropic"),
        ("PADDLE.NET* N8N CLOUD1", "Paddle"), ("HUBSPOT INC", "HubSpot"), ("INTUIT *QBOOKS ONLINE", "QuickBooks"),
        ("INTUIT QBO", "QuickBooks"), ("DOCUSIGN INC", "DocuSign"), ("CANVA* I03812345", "Canva"), ("MIRO.COM", "Miro"),
        ("ASANA.COM", "Asana"), ("CALENDLY", "Calendly"), ("LOOM, INC.", "Loom"), ("MAILCHIMP *MONTHLY", "Mailchimp"),
        ("1PASSWORD* 1PASSWORD.COM", "1Password"), ("AGILEBITS INC", "1Password"), ("DATADOG INC", "Datadog"), ("SENTRY.IO", "Sentry"),
        ("WWW.NOTION.SO", "Notion"), ("TYPEFORM SL", "Typeform"), ("ZAPIER.COM/CHARGE", "Zapier"), ("WEBFLOW.COM", "Webflow"),
        ("SALESFORCE.COM", "Salesforce"), ("ZENDESK INC", "Zendesk"), ("CURSOR, AI POWERED IDE", "Cursor"), ("CLOSE.COM", "Close"),
        ("FRONTAPP", "Front"), ("GETHARVEST", "Harvest"), ("LINEAR.APP", "Linear"),
        // Not software.
        ("AMZN MKTP US*2K3L45", "noise:Amazon Marketplace"), ("UBER *TRIP HELP.UBER.COM", "noise:Uber"), ("UBER *EATS", "noise:Uber Eats"),
        ("LYFT *RIDE FRI 5PM", "noise:Lyft"), ("DELTA AIR 0062345678", "noise:Airlines"), ("MARRIOTT SAN FRANCISCO", "noise:Hotels"),
        ("STARBUCKS STORE 1234", "noise:Starbucks"), ("DD DOORDASH SWEETGREEN", "noise:DoorDash"), ("SQ *BLUE BOTTLE COFFEE", "noise:Restaurants"),
        ("AIRBNB * HMXYZ", "noise:Airbnb"),
        // Everyday words alone are not vendors; unknown merchants keep a readable name.
        ("CLOSE ENCOUNTERS DINER", "noise:Restaurants"), ("FRONT STREET SHOES", "unknown:front street shoes"),
        ("SQ *JOES KNIVES 555-1234", "unknown:joes knives"), ("ACME WIDGETS LLC", "unknown:acme widgets llc"),
    ])
    func descriptorsFindTheirVendor(descriptor: String, expected: String) {
        let got: String
        switch Self.catalogue.match(descriptor: descriptor) {
        case .vendor(let v): got = v.name
        case .notSoftware(let v): got = "noise:" + v.name
        case .unknown(let name): got = "unknown:" + name
        }
        #expect(got == expected, "\(descriptor)")
    }

    @Test(arguments: [
        ("app.notion.so", "Notion"), ("https://us02web.zoom.us/j/123", "Zoom"), ("acme.slack.com", "Slack"), ("figma.com", "Figma"),
        ("acme.atlassian.net", "Atlassian"), ("docs.google.com", "unknown:docs.google.com"), ("random-startup.io", "unknown:random-startup.io"),
    ])
    func domainsFindTheirVendor(domain: String, expected: String) {
        let got: String
        switch Self.catalogue.match(domain: domain) {
        case .vendor(let v): got = v.name
        case .notSoftware(let v): got = "noise:" + v.name
        case .unknown(let name): got = "unknown:" + name
        }
        #expect(got == expected, "\(domain)")
    }

    @Test func aUsersFileAddsAndOverridesVendors() throws {
        let user = try VendorCatalogue(json: JSONParser.parse("""
            {"vendors": [{"name": "Acme Widgets", "domains": ["acmewidgets.com"], "descriptors": ["ACME WIDGETS"], "category": "internal"},
                         {"name": "Zoom", "domains": ["zoom.us"], "descriptors": ["ZOOM.US"], "category": "approved-video"}]}
            """), file: "mine.json")
        let merged = Self.catalogue.merging(user)
        guard case .vendor(let acme) = merged.match(descriptor: "ACME WIDGETS LLC") else { Issue.record("Acme not found"); return }
        #expect(acme.category == "internal")
        guard case .vendor(let zoom) = merged.match(descriptor: "ZOOM.US 888-799-9666") else { Issue.record("Zoom not found"); return }
        #expect(zoom.category == "approved-video")
        #expect(merged.vendors.count == Self.catalogue.vendors.count + 1)
    }

    @Test func aBrokenCatalogueNamesTheFileAndEntry() {
        #expect(throws: VendorCatalogue.Failure.self) {
            try VendorCatalogue(json: JSONParser.parse(#"{"vendors": [{"name": "A"}, {"domains": ["b.com"]}]}"#), file: "mine.json")
        }
        do {
            _ = try VendorCatalogue(json: JSONParser.parse(#"{"vendors": [{"name": "A"}, {"domains": ["b.com"]}]}"#), file: "mine.json")
        } catch {
            #expect("\(error)" == "mine.json: vendors[1].name is required")
        }
    }
}
