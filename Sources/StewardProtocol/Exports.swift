@_exported import StewardJSON
