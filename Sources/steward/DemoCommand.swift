import Foundation
import StewardDemo
import StewardHost
import StewardJournal

let demoCommand = Command(
    name: "demo",
    summary: "Run the whole loop on this machine against the built-in sandbox of stand-in apps.",
    usage: "[--dir DIR] [--keep] [--serve]",
    discussion: """
    Starts the sandbox, writes a Steward folder (steward.json, an HR export of about 200 people,
    a checkpoint key beside the config), runs sync, plan and apply, then changes HR (three joiners,
    two movers, two leavers) and runs them again. Then it runs an access review of the CRM in two
    stages (managers, then the app owner) with scripted reviewers, closes it with the revokes
    applied and read back, writes its report as HTML, CSV, JSON and PDF into DIR/reports, and
    verifies the journal. The folder stays a
    working Steward folder: `steward status`, `steward audit verify` and the rest work inside it.
    --keep leaves the sandbox running until Ctrl-C so you can run more commands against it.

    --serve then opens a second campaign (crm-managers) that stays open and runs `steward serve` on
    a free port with the sandbox, printing `serving on http://127.0.0.1:PORT` and `reviewer link:
    URL` for a manager with items to decide, until Ctrl-C or SIGTERM. HR webhooks are signed with
    DIR/webhook.secret (docs/serve.md); read-only commands (`steward status`, `steward review list`,
    `steward audit verify`) keep working in DIR meanwhile.
    """,
    options: [
        .value("--dir", "DIR", "The demo folder (default ./steward-demo; replaced if it is an earlier demo's)."),
        .flag("--keep", "Keep the sandbox running after the demo, until Ctrl-C."),
        .flag("--serve", "Then run steward serve on a free port with an open campaign, until Ctrl-C or SIGTERM."),
    ],
    run: { inv in
        let dir = URL(fileURLWithPath: inv.value("--dir") ?? "steward-demo").standardizedFileURL
        let json = inv.json
        let demo = Demo(directory: dir, say: { line in if !json { print(line) } })
        let keep = inv.flag("--keep"), serve = inv.flag("--serve")
        let result = try await demo.run { sandbox in
            if serve {
                let log: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data("\(Timestamp(Date()).rfc3339) \(line)\n".utf8)) }
                let configPath = dir.appendingPathComponent("steward.json").path
                do {
                    let running = try await DemoService(configPath: configPath, say: { line in if !json { print(line) } }).start(log: log)
                    print("serving on \(running.service.baseURL)")
                    if let link = running.reviewerLink, let reviewer = running.reviewer { print("reviewer link: \(link)  (\(reviewer))") }
                    print("Sign HR webhooks with \(dir.appendingPathComponent("webhook.secret").path); Ctrl-C or SIGTERM stops.")
                    fflush(nil)
                    await waitForTermination()
                    log("stopping: finishing the job in progress")
                    await running.service.shutdown()
                } catch {
                    printError("steward demo --serve: \(error)")
                }
                return
            }
            guard keep else { return }
            print("\nThe sandbox keeps running (\(sandbox.apps.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))).")
            print("Try: cd \(dir.path) && steward status. Press Ctrl-C to stop.")
            signal(SIGINT, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGINT)
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                source.setEventHandler { c.resume() }
                source.resume()
            }
            source.cancel()
        }
        let reviewOK = result.review.map { $0.outcomes["revoke-failed", default: 0] == 0 } ?? true
        let ok = result.verified && result.firstApply.succeeded && result.secondApply.succeeded && reviewOK
        if json {
            printJSON([
                "directory": .string(dir.path), "apps": .array(result.apps.map { .string($0) }),
                "round1": ["actions": .int(result.firstPlan.actions.count), "apply": result.firstApply.json],
                "round2": ["actions": .int(result.secondPlan.actions.count), "apply": result.secondApply.json],
                "journalEvents": .int(result.journalEvents), "journalIntact": .bool(result.verified),
                "review": result.review.map { review in
                    ["campaign": .string(review.campaign), "items": .int(review.items),
                     "outcomes": .object(review.outcomes.mapValues { .int($0) }), "reports": .array(review.reports.map { .string($0) })]
                } ?? .null,
            ])
        } else {
            print("\nSummary: \(result.apps.count) app\(result.apps.count == 1 ? "" : "s") (\(result.apps.joined(separator: ", "))); round 1 applied \(result.firstApply.applied) actions, round 2 applied \(result.secondApply.applied); journal of \(result.journalEvents) events \(result.verified ? "verified intact" : "NOT intact").")
            if let review = result.review {
                print("Access review \(review.campaign): \(review.items) items, " + review.outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                      + "; its report is in \(dir.appendingPathComponent("reports").path) (\(review.reports.map { URL(fileURLWithPath: $0).pathExtension }.joined(separator: ", "))).")
            }
            print("The folder \(dir.path) is a working Steward folder: cd there and try `steward status` or `steward audit verify`.")
        }
        return ok ? ExitCode.ok : ExitCode.failure
    })
