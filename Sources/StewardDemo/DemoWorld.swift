import Foundation
import StewardProtocol

/// The demo's company: about 200 people in six departments, generated the same way every time,
/// and the HR changes the demo's second round makes (three joiners, two movers, two leavers).
public struct DemoWorld: Sendable {
    public var people: [Person]

    public static let departments: [(name: String, size: Int, titles: [String], head: String)] = [
        ("Engineering", 50, ["Software Engineer", "Senior Software Engineer", "Lead Engineer"], "VP Engineering"),
        ("Sales", 40, ["Account Executive", "Sales Development Rep", "Lead Account Executive"], "VP Sales"),
        ("Marketing", 30, ["Marketing Specialist", "Content Writer", "Lead Designer"], "VP Marketing"),
        ("Finance", 25, ["Accountant", "Financial Analyst", "Lead Accountant"], "CFO"),
        ("Support", 35, ["Support Agent", "Senior Support Agent", "Lead Support Agent"], "Head of Support"),
        ("People", 20, ["HR Generalist", "Recruiter", "Lead Recruiter"], "Head of People"),
    ]

    static let firstNames = ["Ada", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia",
                             "Oren", "Pia", "Quin", "Rui", "Sana", "Tom", "Uma", "Vik", "Wen", "Xia", "Yara", "Zed"]
    static let lastNames = ["Abbott", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones", "Kim",
                            "Lopez", "Mehta", "Novak", "Okafor", "Park", "Quist", "Rossi", "Silva", "Tanaka", "Usman", "Vogel"]
    static let locations = ["Berlin", "London", "New York", "Remote"]

    public init(people: [Person]) { self.people = people }

    /// The initial company; `scale` multiplies every department's size (1 gives 200 people).
    public static func initial(scale: Int = 1) -> DemoWorld {
        var people: [Person] = []
        var n = 1000
        for (d, dept) in departments.enumerated() {
            let headId = "E\(n)"
            for i in 0..<(dept.size * max(1, scale)) {
                let id = "E\(n)"
                let first = firstNames[(n * 7) % firstNames.count]
                let last = lastNames[(n * 11 + d) % lastNames.count]
                let title = i == 0 ? dept.head : i % 9 == 1 ? dept.titles[2] : dept.titles[i % 2]
                people.append(Person(
                    id: id, email: "\(first.lowercased()).\(last.lowercased()).\(n)@example.com", firstName: first, lastName: last,
                    department: dept.name, title: title, managerId: i == 0 ? nil : headId,
                    location: locations[(n * 3) % locations.count], employmentType: i % 13 == 5 ? "contractor" : "employee",
                    status: .active, startDate: "20\(18 + (n % 7))-0\(1 + n % 9)-1\(n % 10)"))
                n += 1
            }
        }
        return DemoWorld(people: people)
    }

    public func person(_ id: String) -> Person? { people.first { $0.id == id } }

    /// The second round's changes, described for the demo's output.
    public struct Changes: Sendable {
        public var joiners: [String] = []
        public var movers: [String] = []
        public var leavers: [String] = []
    }

    /// Three joiners, an Engineering → Sales mover, a lead who stops being one (Admin → Viewer),
    /// and two leavers (an engineer terminated, a writer simply gone from the feed).
    public func secondRound(today: String) -> (DemoWorld, Changes) {
        var next = people
        var changes = Changes()
        let joiners = [
            Person(id: "E2001", email: "noor.haddad.2001@example.com", firstName: "Noor", lastName: "Haddad", department: "Sales",
                   title: "Account Executive", managerId: "E1050", location: "London", employmentType: "employee", startDate: today),
            Person(id: "E2002", email: "ole.berg.2002@example.com", firstName: "Ole", lastName: "Berg", department: "Engineering",
                   title: "Software Engineer", managerId: "E1000", location: "Berlin", employmentType: "employee", startDate: today),
            Person(id: "E2003", email: "ivy.cole.2003@example.com", firstName: "Ivy", lastName: "Cole", department: "Support",
                   title: "Support Agent", managerId: "E1145", location: "Remote", employmentType: "employee", startDate: today),
        ]
        next += joiners
        changes.joiners = joiners.map(\.id)
        // An engineer moves to Sales; a lead engineer becomes a plain engineer.
        if let i = next.firstIndex(where: { $0.department == "Engineering" && $0.title == "Software Engineer" }) {
            next[i].department = "Sales"
            next[i].title = "Account Executive"
            next[i].managerId = "E1050"
            changes.movers.append(next[i].id)
        }
        if let i = next.firstIndex(where: { $0.department == "Engineering" && $0.title == "Lead Engineer" }) {
            next[i].title = "Senior Software Engineer"
            changes.movers.append(next[i].id)
        }
        // One leaver is marked terminated (an engineer, who has access in every demo app); the
        // other disappears from the export.
        if let i = next.firstIndex(where: { $0.department == "Engineering" && $0.title == "Senior Software Engineer" && !changes.movers.contains($0.id) }) {
            next[i].status = .terminated
            // Their last day was yesterday: what they do in an app today is after leaving.
            next[i].endDate = Self.dayBefore(today)
            changes.leavers.append(next[i].id)
        }
        if let i = next.firstIndex(where: { $0.department == "Marketing" && $0.title == "Content Writer" }) {
            changes.leavers.append(next[i].id)
            next.remove(at: i)
        }
        return (DemoWorld(people: next), changes)
    }

    static func dayBefore(_ day: String) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        guard let date = f.date(from: day) else { return day }
        return f.string(from: date.addingTimeInterval(-86_400))
    }

    /// The HR export in the file connector's default CSV columns.
    public var csv: String {
        var lines = ["employee_id,email,first_name,last_name,department,title,manager_id,location,employment_type,status,start_date,end_date"]
        for p in people {
            let fields = [p.id, p.email, p.firstName ?? "", p.lastName ?? "", p.department ?? "", p.title ?? "", p.managerId ?? "",
                          p.location ?? "", p.employmentType ?? "", p.status.rawValue, p.startDate ?? "", p.endDate ?? ""]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

private func csvField(_ s: String) -> String {
    s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
