import Foundation
FileHandle.standardError.write(Data("steward-connector-scim: not built yet\n".utf8))
exit(1)
