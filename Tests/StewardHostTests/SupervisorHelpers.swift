import Foundation
import StewardHost
import StewardProtocol

/// True while a process with this pid exists (and is not a zombie we could still reap).
func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0
}

/// A quick restart policy so crash tests do not wait long.
let fastRestart = RestartPolicy(crashBudget: 5, window: 180, initialBackoff: 0.01, maxBackoff: 0.05)
