import Dispatch

/// Runs the server's `async` handlers on threads of their own.
///
/// Without it a handler's task joins Swift's cooperative pool, which has one thread per core.
/// A host that blocks that pool (a synchronous file write, a child process it waits for) would
/// then stall every request, however idle the server. A concurrent Dispatch queue grows threads
/// when its work blocks, so handlers keep answering whatever the rest of the process is doing.
final class HandlerExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "steward.http.handlers", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
