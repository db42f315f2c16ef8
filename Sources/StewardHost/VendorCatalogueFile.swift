import Foundation
import StewardCore
import StewardJSON

extension Workspace {
    /// The vendor catalogue discovery matches evidence with: the shipped
    /// `plugins/discovery/catalogue.json` (the first found on the plugin search path), with the
    /// config's `vendorCatalogue` file over it. Errors name the file.
    public func vendorCatalogue() throws -> VendorCatalogue {
        var catalogue: VendorCatalogue?
        if let shipped = registry.searchPath.map({ $0.appendingPathComponent("discovery/catalogue.json") })
            .first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            catalogue = try Self.readCatalogue(shipped)
        }
        if let user = config.vendorCatalogue {
            let mine = try Self.readCatalogue(user)
            catalogue = catalogue.map { $0.merging(mine) } ?? mine
        }
        guard let catalogue else {
            throw WorkspaceError(message: "no vendor catalogue: discovery/catalogue.json is not on the plugin path (\(registry.searchPath.map(\.path).joined(separator: ", "))) and the config names no vendorCatalogue")
        }
        return catalogue
    }

    static func readCatalogue(_ file: URL) throws -> VendorCatalogue {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw WorkspaceError(message: "\(file.path): cannot read the vendor catalogue")
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(Array(data), options: .json5)
        } catch {
            throw WorkspaceError(message: "\(file.path): line \(error.line): \(error.message)")
        }
        return try VendorCatalogue(json: json, file: file.path)
    }
}
