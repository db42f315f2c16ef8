/// The report's stylesheet, inline so the file is self-contained: system fonts only, no
/// `url()`, no imports. On paper each part starts on a new page, table headers repeat, rows do
/// not split, and nothing has a dark background; the page number is in the footer.
enum HTMLStyle {
    static let css: StaticString = """
    :root { color-scheme: light; }
    * { box-sizing: border-box; }
    body { margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #111; background: #fff;
      font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
    h1 { font-size: 22px; margin: 0 0 4px; }
    h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #333; }
    h3 { font-size: 14px; margin: 18px 0 6px; }
    p { margin: 4px 0 8px; }
    .sub { color: #444; }
    .note { color: #444; font-size: 12px; max-width: 60em; }
    code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 11px; }
    pre { white-space: pre-wrap; word-break: break-all; border: 1px solid #bbb; padding: 6px 8px; margin: 4px 0 8px; }
    table { border-collapse: collapse; width: 100%; margin: 4px 0 12px; }
    th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
    thead th { background: #eee; font-weight: 600; }
    tbody th { font-weight: 600; background: #f6f6f6; width: 16em; }
    td.n, th.n { text-align: right; white-space: nowrap; }
    td small, td .small { display: block; color: #555; font-size: 11px; }
    table.facts { width: auto; min-width: 50%; }
    table.items td, table.items th, table.log td, table.log th, table.proofs td, table.proofs th { font-size: 11px; }
    .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px; margin: 8px 0 12px; }
    .figure { border: 1px solid #bbb; padding: 6px 8px; }
    .figure b { display: block; font-size: 20px; }
    .figure span { color: #444; font-size: 12px; }
    .figure.bad { border: 2px solid #b00020; }
    .flag { display: inline-block; border: 2px solid #b00020; color: #b00020; font-weight: 700; padding: 0 4px; }
    .warn { border: 2px solid #b00020; padding: 6px 10px; margin: 8px 0; }
    .ok { color: #1b5e20; }
    .bad { color: #b00020; font-weight: 600; }
    .keep { color: #1b5e20; font-weight: 600; }
    .revoke { color: #b00020; font-weight: 600; }
    .muted { color: #666; }
    .status { white-space: nowrap; font-weight: 600; }
    .status-revoked-verified, .status-kept { color: #1b5e20; }
    .status-revoke-failed, .status-expired { color: #b00020; }
    .status-revoke-pending, .status-open { color: #8a5a00; }
    tr.total td { font-weight: 700; border-top: 2px solid #333; }
    a { color: inherit; }
    nav ol { margin: 4px 0 12px; padding-left: 20px; }
    @page { margin: 14mm 11mm 16mm;
      @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 9px; color: #444; }
      @bottom-left { font-size: 9px; color: #444; } }
    @media print {
      body { margin: 0; max-width: none; padding: 0; font-size: 10px; }
      h1 { font-size: 18px; }
      h2 { font-size: 15px; }
      section.part { break-before: page; }
      h2, h3 { break-after: avoid; }
      thead { display: table-header-group; }
      tr, .figure, pre { break-inside: avoid; }
      table.items td, table.items th, table.log td, table.log th, table.proofs td, table.proofs th { font-size: 8.5px; padding: 2px 3px; }
      thead th { background: #f0f0f0; }
      nav { display: none; }
    }
    /* The PDF's long tables, set as text 150 characters wide (PrintedTable). */
    pre.rows { font-size: 7.8px; line-height: 1.2; border: none; padding: 0; margin: 0 0 6px;
      white-space: pre; word-break: normal; overflow-wrap: normal; break-inside: auto; }
    """
}
