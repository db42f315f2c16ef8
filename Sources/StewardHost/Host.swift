// StewardHost
