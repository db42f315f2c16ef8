import Foundation
FileHandle.standardError.write(Data("steward-sandbox: not built yet\n".utf8))
exit(1)
