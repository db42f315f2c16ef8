import DevTools
import Foundation
import StewardTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Launches a browser per test, at most two at a time on this small machine, and always closes it.
enum Harness {
    private static let slots = Slots(2)

    static func withBrowser(_ body: (Browser) async throws -> Void) async throws {
        await slots.acquire()
        let browser: Browser
        do {
            browser = try await Browser.launch()
        } catch {
            await slots.release()
            throw error
        }
        do {
            try await body(browser)
            await browser.close()
            await slots.release()
        } catch {
            await browser.close()
            await slots.release()
            throw error
        }
    }

    static func withPage(_ body: (Page) async throws -> Void) async throws {
        try await withBrowser { browser in
            let page = try await browser.newPage()
            page.defaultTimeout = .seconds(20)
            try await body(page)
        }
    }

    /// A page showing `html` (via `setContent`, no server needed).
    static func withContent(_ html: String, _ body: (Page) async throws -> Void) async throws {
        try await withPage { page in
            try await page.setContent(html)
            try await body(page)
        }
    }
}

/// Processes (including zombies) whose process group is `group`, from /proc.
func processes(inGroup group: Int32) -> [(pid: Int32, state: String, name: String)] {
    processTable().filter { $0.group == group }.map { ($0.pid, $0.state, $0.name) }
}

/// Chromium's crash handlers whose parent is `parent`. They run in process groups of their own,
/// so a group kill misses them.
func crashHandlers(childrenOf parent: Int32) -> [Int32] {
    processTable().filter { $0.parent == parent && $0.name.hasPrefix("chrome_crashpad") }.map(\.pid)
}

/// Chromium's crash handlers writing to `log` (the browser's stderr file, which they inherit).
func crashHandlers(loggingTo log: String) -> [Int32] {
    processTable().filter { entry in
        guard entry.name.hasPrefix("chrome_crashpad"),
              let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry.pid)/fd/1") else { return false }
        return target == log
    }.map(\.pid)
}

/// Whether a process exists at all, zombies included.
func processExists(_ pid: Int32) -> Bool {
    FileManager.default.fileExists(atPath: "/proc/\(pid)")
}

private func processTable() -> [(pid: Int32, state: String, name: String, parent: Int32, group: Int32)] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [(Int32, String, String, Int32, Int32)] = []
    for entry in entries {
        guard let pid = Int32(entry),
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
        let name = String(stat[stat.index(after: open)..<close])
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state, ppid, pgrp.
        guard fields.count > 2, let parent = Int32(fields[1]), let group = Int32(fields[2]) else { continue }
        found.append((pid, String(fields[0]), name, parent, group))
    }
    return found
}

/// Polls (reaping any zombies of the group that are our children) until the group is empty
/// or `limit` passes; returns what is left.
func waitUntilGroupIsGone(_ group: Int32, limit: Duration = .seconds(20)) async -> [(pid: Int32, state: String, name: String)] {
    let deadline = ContinuousClock.now + limit
    while true {
        var status: Int32 = 0
        while waitpid(-group, &status, WNOHANG) > 0 {}
        let left = processes(inGroup: group)
        if left.isEmpty || ContinuousClock.now > deadline { return left }
        try? await Task.sleep(for: .milliseconds(50))
    }
}

/// Polls (reaping those that are our children) until none of `pids` exists or `limit` passes.
func waitUntilGone(_ pids: [Int32], limit: Duration = .seconds(20)) async -> [Int32] {
    let deadline = ContinuousClock.now + limit
    while true {
        for pid in pids {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
        let left = pids.filter(processExists)
        if left.isEmpty || ContinuousClock.now > deadline { return left }
        try? await Task.sleep(for: .milliseconds(50))
    }
}
