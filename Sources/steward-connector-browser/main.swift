import Foundation
FileHandle.standardError.write(Data("steward-connector-browser: not built yet\n".utf8))
exit(1)
