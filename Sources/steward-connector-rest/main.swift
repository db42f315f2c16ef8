import Foundation
FileHandle.standardError.write(Data("steward-connector-rest: not built yet\n".utf8))
exit(1)
