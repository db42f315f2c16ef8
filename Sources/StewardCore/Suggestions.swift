/// "Did you mean" for names a person typed: the known name closest by edit distance, ignoring
/// case. A typo in a rule should be answered with the fix, not just the failure.
func closestName(to typed: String, among known: [String]) -> String? {
    let target = Array(typed.lowercased().unicodeScalars)
    var best: (name: String, distance: Int)?
    for name in known {
        let d = editDistance(target, Array(name.lowercased().unicodeScalars))
        if d < (best?.distance ?? .max) { best = (name, d) }
    }
    return best?.name
}

/// Levenshtein distance with one row of memory.
private func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var diagonal = row[0]
        row[0] = i
        for j in 1...b.count {
            let above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1))
            diagonal = above
        }
    }
    return row[b.count]
}

/// `Admin, User, Viewer`, or the first `limit` and a count of the rest.
func listing(_ names: [String], limit: Int = 12) -> String {
    if names.isEmpty { return "none listed" }
    let shown = names.prefix(limit).joined(separator: ", ")
    return names.count > limit ? shown + " and \(names.count - limit) more" : shown
}
