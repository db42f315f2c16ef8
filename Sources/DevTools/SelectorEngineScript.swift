/// The page-side half of selectors and actionability, evaluated in the page's main world.
///
/// The expression evaluates to the engine object, installing it once per document under a
/// symbol, so a call is `<script>.probe({...})`. Swift parses selectors (so recipes fail at
/// load); this script only matches parsed parts against the live DOM and checks elements.
let selectorEngineScript = #"""
(() => {
  const KEY = Symbol.for('steward.devtools.engine.v1');
  if (globalThis[KEY]) return globalThis[KEY];

  const normalize = (s) => (s || '').replace(/\s+/g, ' ').trim();

  function matches(actual, m) {
    const a = normalize(actual);
    const v = normalize(m.value);
    return m.exact ? a === v : a.toLowerCase().includes(v.toLowerCase());
  }

  // All elements under root, light DOM first, then open shadow roots.
  function allElements(root) {
    const out = [];
    const visit = (r) => {
      const walker = document.createTreeWalker(r, NodeFilter.SHOW_ELEMENT);
      const hosts = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        out.push(n);
        if (n.shadowRoot) hosts.push(n.shadowRoot);
      }
      hosts.forEach(visit);
    };
    visit(root);
    return out;
  }

  function hasShadow(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.shadowRoot) return true;
    return false;
  }

  function cssAll(root, css) {
    const out = Array.from(root.querySelectorAll(css));
    if (!hasShadow(root)) return out;
    for (const el of allElements(root)) {
      if (el.shadowRoot) out.push(...el.shadowRoot.querySelectorAll(css));
    }
    return Array.from(new Set(out));
  }

  const SKIP_TEXT = new Set(['head', 'script', 'style', 'noscript', 'template', 'title', 'meta', 'link']);

  // Text as a reader sees it in the DOM: script and style contents left out.
  function elementText(el) {
    if (el.localName === 'input') {
      const t = (el.getAttribute('type') || '').toLowerCase();
      if (t === 'button' || t === 'submit' || t === 'reset') return el.value;
    }
    if (!el.querySelector('script,style,noscript,template')) return el.textContent;
    let text = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.parentElement.closest('script,style,noscript,template')) text += n.data;
    }
    return text;
  }

  // The smallest visible elements whose text matches.
  function textAll(root, m) {
    const els = allElements(root).filter((e) => !SKIP_TEXT.has(e.localName));
    const containsMatch = new Set();
    const found = [];
    for (let i = els.length - 1; i >= 0; i--) {
      const el = els[i];
      let childMatched = false;
      for (const c of el.children) if (containsMatch.has(c)) { childMatched = true; break; }
      if (childMatched) { containsMatch.add(el); continue; }
      if (matches(elementText(el), m)) {
        containsMatch.add(el);
        if (isVisible(el)) found.push(el);
      }
    }
    return found.reverse();
  }

  function labelAll(root, m) {
    const out = [];
    for (const el of allElements(root)) {
      if (el.localName === 'label') {
        if (el.control && matches(el.textContent, m)) out.push(el.control);
        continue;
      }
      const aria = el.getAttribute('aria-label');
      if (aria && matches(aria, m)) { out.push(el); continue; }
      const by = el.getAttribute('aria-labelledby');
      if (by && matches(labelledByText(el, by), m)) out.push(el);
    }
    return inDocumentOrder(out);
  }

  function labelledByText(el, ids) {
    const doc = el.getRootNode();
    return ids.split(/\s+/).map((id) => doc.getElementById ? doc.getElementById(id) : document.getElementById(id))
      .filter(Boolean).map((e) => e.textContent).join(' ');
  }

  function inDocumentOrder(list) {
    const unique = Array.from(new Set(list));
    return unique.sort((a, b) => (a === b ? 0 : a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  }

  function xpathAll(root, xpath) {
    const result = document.evaluate(xpath, root, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = [];
    for (let i = 0; i < result.snapshotLength; i++) {
      const n = result.snapshotItem(i);
      if (n.nodeType === Node.ELEMENT_NODE) out.push(n);
    }
    return out;
  }

  // ---- ARIA roles and names -------------------------------------------------------------

  const INPUT_ROLES = {
    button: 'button', submit: 'button', reset: 'button', image: 'button',
    checkbox: 'checkbox', radio: 'radio', range: 'slider', number: 'spinbutton',
    text: 'textbox', email: 'textbox', tel: 'textbox', url: 'textbox', search: 'searchbox',
  };

  function implicitRole(el) {
    const tag = el.localName;
    switch (tag) {
      case 'a': case 'area': return el.hasAttribute('href') ? 'link' : null;
      case 'button': return 'button';
      case 'input': {
        const type = (el.getAttribute('type') || 'text').toLowerCase();
        const role = INPUT_ROLES[type] || (type === '' ? 'textbox' : null);
        if (el.hasAttribute('list') && (role === 'textbox' || role === 'searchbox')) return 'combobox';
        return role;
      }
      case 'textarea': return 'textbox';
      case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'option': return 'option';
      case 'tr': return 'row';
      case 'td': return el.closest('table[role=grid],table[role=treegrid]') ? 'gridcell' : 'cell';
      case 'th': return el.getAttribute('scope') === 'row' ? 'rowheader' : 'columnheader';
      case 'table': return 'table';
      case 'thead': case 'tbody': case 'tfoot': return 'rowgroup';
      case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6': return 'heading';
      case 'ul': case 'ol': case 'menu': return 'list';
      case 'li': return 'listitem';
      case 'nav': return 'navigation';
      case 'main': return 'main';
      case 'aside': return 'complementary';
      case 'header': return el.closest('article,aside,main,nav,section') ? null : 'banner';
      case 'footer': return el.closest('article,aside,main,nav,section') ? null : 'contentinfo';
      case 'form': return 'form';
      case 'dialog': return 'dialog';
      case 'img': return el.getAttribute('alt') === '' ? 'presentation' : 'img';
      case 'fieldset': return 'group';
      case 'hr': return 'separator';
      case 'article': return 'article';
      case 'section': return el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby') ? 'region' : null;
      case 'p': return 'paragraph';
      case 'progress': return 'progressbar';
      case 'meter': return 'meter';
      case 'output': return 'status';
      case 'dt': return 'term';
      case 'dd': return 'definition';
      case 'figure': return 'figure';
      case 'search': return 'search';
    }
    return null;
  }

  function roleOf(el) {
    const explicit = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
    return explicit || implicitRole(el);
  }

  const NAME_FROM_CONTENT = new Set([
    'button', 'cell', 'checkbox', 'columnheader', 'gridcell', 'heading', 'link', 'menuitem',
    'menuitemcheckbox', 'menuitemradio', 'option', 'radio', 'row', 'rowheader', 'switch', 'tab',
    'tooltip', 'treeitem',
  ]);

  function contentName(node) {
    let text = '';
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) { text += child.data; continue; }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      if (child.getAttribute('aria-hidden') === 'true' || SKIP_TEXT.has(child.localName)) continue;
      const style = getComputedStyle(child);
      if (style.display === 'none') continue;
      const aria = child.getAttribute('aria-label');
      if (aria) { text += ' ' + aria + ' '; continue; }
      if (child.localName === 'img') { text += ' ' + (child.getAttribute('alt') || '') + ' '; continue; }
      const block = style.display !== 'inline';
      text += (block ? ' ' : '') + contentName(child) + (block ? ' ' : '');
    }
    return text;
  }

  function accessibleName(el) {
    const by = el.getAttribute('aria-labelledby');
    if (by) { const t = normalize(labelledByText(el, by)); if (t) return t; }
    const aria = normalize(el.getAttribute('aria-label'));
    if (aria) return aria;
    const tag = el.localName;
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (tag === 'input' && (type === 'button' || type === 'submit' || type === 'reset')) {
      return normalize(el.value) || (type === 'submit' ? 'Submit' : type === 'reset' ? 'Reset' : '');
    }
    if (tag === 'input' && type === 'image') return normalize(el.getAttribute('alt'));
    if ((tag === 'input' || tag === 'select' || tag === 'textarea') && el.labels && el.labels.length) {
      return normalize(Array.from(el.labels).map((l) => contentName(l)).join(' '));
    }
    if (tag === 'img' || tag === 'area') return normalize(el.getAttribute('alt')) || normalize(el.getAttribute('title'));
    if (tag === 'table') { const c = el.querySelector(':scope > caption'); if (c) return normalize(c.textContent); }
    if (tag === 'fieldset') { const l = el.querySelector(':scope > legend'); if (l) return normalize(l.textContent); }
    if (NAME_FROM_CONTENT.has(roleOf(el))) { const t = normalize(contentName(el)); if (t) return t; }
    return normalize(el.getAttribute('title')) || normalize(el.getAttribute('placeholder'));
  }

  function stateOf(el, key) {
    switch (key) {
      case 'checked':
        if (el.localName === 'input' && (el.type === 'checkbox' || el.type === 'radio')) return el.checked;
        return el.getAttribute('aria-checked') === 'true';
      case 'disabled': return isDisabled(el);
      case 'selected':
        if (el.localName === 'option') return el.selected;
        return el.getAttribute('aria-selected') === 'true';
      case 'expanded': return el.getAttribute('aria-expanded') === 'true';
      case 'pressed': return el.getAttribute('aria-pressed') === 'true';
      case 'level': {
        const m = /^h([1-6])$/.exec(el.localName);
        return Number(el.getAttribute('aria-level')) || (m ? Number(m[1]) : undefined);
      }
    }
    return undefined;
  }

  function isAriaHidden(el) {
    for (let e = el; e; e = e.parentElement) if (e.getAttribute('aria-hidden') === 'true') return true;
    return false;
  }

  function roleAll(root, part) {
    return allElements(root).filter((el) => {
      if (roleOf(el) !== part.role) return false;
      if (isAriaHidden(el) || !isVisible(el)) return false;
      for (const [key, want] of Object.entries(part.states || {})) if (stateOf(el, key) !== want) return false;
      if (part.name && !matches(accessibleName(el), part.name)) return false;
      return true;
    });
  }

  // ---- Querying ---------------------------------------------------------------------------

  function queryPart(root, part) {
    switch (part.engine) {
      case 'css': return cssAll(root, part.css);
      case 'xpath': return xpathAll(root, part.xpath);
      case 'text': return textAll(root, part);
      case 'label': return labelAll(root, part);
      case 'role': return roleAll(root, part);
    }
    throw new Error('unknown selector engine ' + part.engine);
  }

  // A selector the host could not parse arrives marked invalid: it fails like one the page rejects.
  function querySel(sel) {
    if (sel.invalid) throw new Error(sel.invalid);
    return queryAll(sel.parts);
  }

  function queryAll(parts) {
    let scope = [document];
    for (const part of parts) {
      if (part.engine === 'nth') {
        const i = part.index < 0 ? scope.length + part.index : part.index;
        scope = i >= 0 && i < scope.length ? [scope[i]] : [];
        continue;
      }
      const next = [];
      const seen = new Set();
      for (const root of scope) {
        for (const el of queryPart(root, part)) if (!seen.has(el)) { seen.add(el); next.push(el); }
      }
      scope = next;
    }
    return scope.filter((e) => e !== document);
  }

  // ---- Actionability ----------------------------------------------------------------------

  function isVisible(el) {
    if (el.localName === 'option' || el.localName === 'optgroup') {
      const select = el.closest('select');
      return select ? isVisible(select) : false;
    }
    const style = getComputedStyle(el);
    if (style.display === 'contents') return Array.from(el.children).some(isVisible);
    if (el.checkVisibility && !el.checkVisibility()) return false;
    if (style.visibility !== 'visible') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }

  function isDisabled(el) {
    const control = el.closest('button,input,select,textarea,option,optgroup');
    if (control && control.matches(':disabled')) return true;
    for (let e = el; e; e = e.parentElement) if (e.getAttribute('aria-disabled') === 'true') return true;
    return false;
  }

  const TEXT_INPUTS = new Set(['', 'text', 'email', 'password', 'search', 'tel', 'url', 'number']);
  const VALUE_INPUTS = new Set(['date', 'time', 'datetime-local', 'month', 'week', 'color', 'range']);

  function fillKind(el) {
    if (el.localName === 'textarea') return 'insert';
    if (el.localName === 'input') {
      const type = (el.getAttribute('type') || '').toLowerCase();
      if (TEXT_INPUTS.has(type)) return 'insert';
      if (VALUE_INPUTS.has(type)) return 'value';
      return null;
    }
    if (el.isContentEditable) return 'insert';
    return null;
  }

  function isReadOnly(el) {
    if ((el.localName === 'input' || el.localName === 'textarea') && el.readOnly) return true;
    return el.getAttribute('aria-readonly') === 'true';
  }

  function isCheckable(el) {
    if (el.localName === 'input' && (el.type === 'checkbox' || el.type === 'radio')) return true;
    const role = roleOf(el);
    return role === 'checkbox' || role === 'radio' || role === 'switch' || role === 'menuitemcheckbox';
  }

  function describe(el) {
    let s = '<' + el.localName;
    if (el.id) s += ' id="' + el.id + '"';
    const cls = typeof el.className === 'string' ? normalize(el.className) : '';
    if (cls) s += ' class="' + cls + '"';
    return s + '>';
  }

  // A label stands for its control: clicking "label=Email" means the field.
  // Whether a person would click it: a control, a link, or something scripted to act like one.
  function isInteractive(el) {
    if (['button', 'select', 'textarea', 'summary', 'option'].includes(el.localName)) return true;
    if (el.localName === 'a' && el.hasAttribute('href')) return true;
    if (el.localName === 'input' && el.type !== 'hidden') return true;
    const role = el.getAttribute('role');
    if (role && ['button', 'link', 'menuitem', 'tab', 'checkbox', 'radio', 'switch', 'option'].includes(role)) return true;
    return el.hasAttribute('onclick') || (el.hasAttribute('tabindex') && el.getAttribute('tabindex') !== '-1');
  }

  // A click by text or label goes to a control before a heading that says the same (a page
  // titled "Sign in" above its "Sign in" button): interactive matches, or matches inside one,
  // first, otherwise in document order.
  function clickOrder(found, sel) {
    const last = sel.parts[sel.parts.length - 1];
    if (!last || (last.engine !== 'text' && last.engine !== 'label')) return found;
    const rank = (el) => (isInteractive(el) || (el.closest && el.closest('button,a[href],[role=button],[role=link]')) ? 0 : 1);
    return found.map((el, i) => [el, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map((p) => p[0]);
  }

  function retarget(el, action) {
    if (action !== 'click' && el.localName === 'label' && el.control) return el.control;
    return el;
  }

  // Why `el` cannot take `spec.action` right now, or null when it can (before geometry checks).
  function blocker(el, spec) {
    if (!el.isConnected) return 'detached from the document';
    if (!isVisible(el)) return 'not visible';
    if (spec.action === 'fill') {
      if (!fillKind(el)) return 'not a text field (' + describe(el) + ')';
      if (isDisabled(el)) return 'disabled';
      if (isReadOnly(el)) return 'read-only';
      return null;
    }
    if (spec.action === 'select') {
      if (el.localName !== 'select') return 'not a <select> (' + describe(el) + ')';
      if (isDisabled(el)) return 'disabled';
      return null;
    }
    if (spec.action === 'check' || spec.action === 'uncheck') {
      if (!isCheckable(el)) return 'not a checkbox or radio button (' + describe(el) + ')';
      if (spec.action === 'uncheck' && el.type === 'radio') return 'a radio button cannot be unchecked';
    }
    if (isDisabled(el)) return 'disabled';
    return null;
  }

  // Resolves in the next animation frame; after a second without one (a page that does not
  // paint), on a timer instead.
  const nextFrame = () => new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    requestAnimationFrame(() => { clearTimeout(timer); resolve(); });
  });

  function boxOf(el) {
    const r = el.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  }

  function inViewport(b) {
    return b.x >= 0 && b.y >= 0 && b.x + b.w <= innerWidth && b.y + b.h <= innerHeight;
  }

  // The topmost element at a point, looking inside open shadow roots.
  function deepElementFromPoint(x, y) {
    let hit = document.elementsFromPoint(x, y)[0];
    while (hit && hit.shadowRoot) {
      const inner = hit.shadowRoot.elementsFromPoint(x, y)[0];
      if (!inner || inner === hit) break;
      hit = inner;
    }
    return hit;
  }

  function containsComposed(el, node) {
    for (let n = node; n; n = n.parentNode || n.host) if (n === el) return true;
    return false;
  }

  const GEOMETRY = /^(transform|translate|rotate|scale|offset.*|left|top|right|bottom|inset.*|margin.*|padding.*|width|height|.*[wW]idth|.*[hH]eight)$/;

  // Whether a CSS animation or transition is moving el or one of its ancestors right now.
  function isAnimating(el) {
    for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
      if (!e.getAnimations) continue;
      for (const a of e.getAnimations()) {
        if (a.playState !== 'running' || !a.effect || !a.effect.getKeyframes) continue;
        if (a.effect.getKeyframes().some((k) => Object.keys(k).some((p) => GEOMETRY.test(p)))) return true;
      }
    }
    return false;
  }

  // Scrolls el into view, checks it is not being animated and has the same box in two
  // consecutive animation frames (the current one, whose animation time a script sees, and the
  // next), and that a click at its centre would reach it. Resolves to {x, y} or a reason.
  async function pointerTarget(el) {
    if (!inViewport(boxOf(el))) el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
    if (isAnimating(el)) return { reason: 'not stable (animating)' };
    const before = boxOf(el);
    await nextFrame();
    if (!el.isConnected) return { reason: 'detached from the document' };
    const after = boxOf(el);
    if (before.x !== after.x || before.y !== after.y || before.w !== after.w || before.h !== after.h || isAnimating(el)) {
      return { reason: 'not stable (moving)' };
    }
    if (after.w === 0 || after.h === 0) return { reason: 'not visible' };
    const x = after.x + after.w / 2;
    const y = after.y + after.h / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return { reason: 'outside the viewport' };
    const hit = deepElementFromPoint(x, y);
    if (!hit) return { reason: 'outside the viewport' };
    if (!containsComposed(el, hit)) {
      const label = el.labels && Array.from(el.labels).some((l) => containsComposed(l, hit));
      if (!label) return { reason: 'covered by ' + describe(hit) };
    }
    return { x, y };
  }

  function selectOptions(el, values) {
    const options = Array.from(el.options);
    const chosen = [];
    for (const v of values) {
      const o = options.find((o) => o.value === v) || options.find((o) => normalize(o.label) === normalize(v));
      if (!o) return { reason: 'no option "' + v + '"' };
      if (o.disabled) return { reason: 'option "' + v + '" is disabled' };
      chosen.push(o);
    }
    if (chosen.length > 1 && !el.multiple) return { reason: 'cannot select several options in a single <select>' };
    for (const o of options) o.selected = chosen.includes(o);
    el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    return { selected: chosen.map((o) => o.value) };
  }

  function focusForFill(el) {
    el.focus();
    if (el.localName === 'input' || el.localName === 'textarea') {
      el.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(el);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
  }

  const engine = {
    last: null,

    // Finds the first element, over the selectors in order, that can take spec.action now.
    async probe(spec) {
      const attempts = [];
      let invalid = null;
      for (let i = 0; i < spec.selectors.length; i++) {
        const sel = spec.selectors[i];
        let found;
        // A selector the page rejects is one failed alternative: the fallbacks are still tried.
        try { found = querySel(sel); } catch (e) {
          const reason = String(e.message || e);
          if (invalid === null) invalid = { invalid: sel.text, reason };
          attempts.push({ selector: sel.text, reason: 'invalid selector: ' + reason });
          continue;
        }
        if (found.length === 0) { attempts.push({ selector: sel.text, reason: 'not found' }); continue; }
        if (spec.action === 'click') found = clickOrder(found, sel);
        let el = null;
        let reason = null;
        for (const raw of found) {
          const candidate = retarget(raw, spec.action);
          const why = blocker(candidate, spec);
          if (why === null) { el = candidate; break; }
          if (reason === null) reason = why;
        }
        if (!el) { attempts.push({ selector: sel.text, reason }); continue; }
        engine.last = el;
        switch (spec.action) {
          case 'fill': {
            const kind = fillKind(el);
            if (kind === 'insert') focusForFill(el); else el.focus();
            return { ok: true, index: i, kind };
          }
          case 'select': {
            const r = selectOptions(el, spec.values);
            if (r.reason) { attempts.push({ selector: sel.text, reason: r.reason }); continue; }
            return { ok: true, index: i, selected: r.selected };
          }
          case 'focus':
            el.focus();
            return { ok: true, index: i };
          case 'check': case 'uncheck': {
            const want = spec.action === 'check';
            if (stateOf(el, 'checked') === want) return { ok: true, index: i, done: true };
            break;
          }
        }
        const target = await pointerTarget(el);
        if (target.reason) { attempts.push({ selector: sel.text, reason: target.reason }); continue; }
        // A plain link only loads a page: clicking it changes nothing in the app.
        const link = el.closest('a[href]');
        const plainLink = !!link && !/^\s*javascript:/i.test(link.getAttribute('href')) && !link.hasAttribute('onclick')
          && !el.hasAttribute('onclick') && !el.closest('button,form');
        return { ok: true, index: i, x: target.x, y: target.y, plainLink };
      }
      if (invalid !== null && attempts.every((a) => a.reason.startsWith('invalid selector: '))) return invalid;
      return { ok: false, attempts };
    },

    lastChecked() { return engine.last ? stateOf(engine.last, 'checked') : null; },

    // Whether the page has finished loading: what "absent" means is only known then.
    loaded() { return document.readyState === 'complete'; },

    // The visible controls most like what the selectors describe, best first: each with its
    // role, accessible name and a selector that finds it, so a recipe is fixed in one edit.
    candidates(texts, limit) {
      const words = (t) => (String(t || '').toLowerCase().match(/[a-z0-9]+/g) || []).filter((w) => w.length > 1 &&
        !['css', 'text', 'role', 'label', 'name', 'button', 'input', 'type', 'xpath', 'normalize', 'space', 'contains', 'id'].includes(w));
      const wanted = new Set(texts.flatMap(words));
      const controls = allElements(document).filter((el) => isInteractive(el) && isVisible(el)).slice(0, 500);
      const scored = controls.map((el, order) => {
        const name = normalize(el.getAttribute('aria-label') || el.innerText || el.value || el.getAttribute('title') || el.getAttribute('placeholder') || '');
        const own = new Set(words([name, el.id, el.getAttribute('name'), el.className].join(' ')));
        let score = 0;
        for (const w of wanted) if (own.has(w)) score += 2; else if ([...own].some((o) => o.includes(w) || w.includes(o))) score += 1;
        return { el, name, score, order };
      }).filter((c) => c.score > 0 || wanted.size === 0);
      scored.sort((a, b) => b.score - a.score || a.order - b.order);
      return scored.slice(0, limit).map(({ el, name }) => {
        const role = el.getAttribute('role') || ({ a: 'link', button: 'button', select: 'combobox', textarea: 'textbox' })[el.localName]
          || (el.localName === 'input' ? (['submit', 'button', 'reset'].includes(el.type) ? 'button' : el.type === 'checkbox' ? 'checkbox' : 'textbox') : el.localName);
        let selector;
        if (el.id) selector = '#' + CSS.escape(el.id);
        else if (el.getAttribute('name')) selector = el.localName + '[name="' + el.getAttribute('name').replace(/"/g, '\\"') + '"]';
        else if (name) selector = 'role=' + role + '[name="' + name.slice(0, 60).replace(/"/g, '\\"') + '"]';
        else selector = el.localName;
        return { role, name: name.slice(0, 80), selector };
      });
    },

    setLastValue(value) {
      const el = engine.last;
      if (!el) return false;
      el.value = value;
      el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return el.value === value;
    },

    clearLast() {
      const el = engine.last;
      if (!el) return false;
      if (el.isContentEditable) el.textContent = ''; else el.value = '';
      el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      return true;
    },

    // Null when the condition holds, else the attempts explaining why not.
    check(cond) {
      switch (cond.kind) {
        case 'visible': case 'hidden': case 'attached': case 'detached': {
          const attempts = [];
          let firstError = null;
          for (const sel of cond.selectors) {
            let found;
            try { found = querySel(sel); } catch (e) {
              if (firstError === null) firstError = e;
              attempts.push({ selector: sel.text, reason: 'invalid selector: ' + String(e.message || e) });
              continue;
            }
            const visible = found.filter(isVisible);
            if (cond.kind === 'visible' && visible.length) return null;
            if (cond.kind === 'attached' && found.length) return null;
            if (cond.kind === 'hidden' && visible.length) return [{ selector: sel.text, reason: 'still visible' }];
            if (cond.kind === 'detached' && found.length) return [{ selector: sel.text, reason: 'still attached' }];
            attempts.push({ selector: sel.text, reason: found.length ? 'not visible' : 'not found' });
          }
          if (firstError !== null && attempts.every((a) => a.reason.startsWith('invalid selector: '))) throw firstError;
          return cond.kind === 'hidden' || cond.kind === 'detached' ? null : attempts;
        }
        case 'url':
          return new RegExp(cond.regex).test(location.href) ? null : [{ selector: 'url', reason: 'page is at ' + location.href }];
        case 'tableChanged': {
          const t = engine.table(cond.selectors);
          if (t.reason) return [{ selector: 'table', reason: t.reason }];
          return t.signature !== cond.signature ? null : [{ selector: 'table', reason: 'the table did not change' }];
        }
      }
      throw new Error('unknown wait ' + cond.kind);
    },

    // Resolves when cond holds, or after budgetMs with the reasons it does not.
    waitFor(cond, budgetMs) {
      let last;
      try { last = engine.check(cond); } catch (e) { return { invalid: String(e.message || e) }; }
      if (last === null) return { ok: true };
      return new Promise((resolve) => {
        let done = false;
        const finish = (value) => { if (!done) { done = true; resolve(value); } };
        const poll = () => {
          if (done) return;
          let r;
          try { r = engine.check(cond); } catch (e) { finish({ invalid: String(e.message || e) }); return; }
          if (r === null) finish({ ok: true }); else last = r;
        };
        const onFrame = () => { poll(); if (!done) requestAnimationFrame(onFrame); };
        requestAnimationFrame(onFrame);
        const interval = setInterval(() => { poll(); if (done) clearInterval(interval); }, 100);
        setTimeout(() => { clearInterval(interval); finish({ ok: false, attempts: last }); }, budgetMs);
      });
    },

    // Headers and rows of the first visible table (or ARIA grid) the selectors find.
    table(selectors) {
      let el = null;
      for (const sel of selectors) {
        try { el = querySel(sel).find(isVisible) || null; } catch (e) { continue; }
        if (el) break;
      }
      if (!el) return { reason: 'no visible table' };
      const cellText = (c) => {
        const controls = c.querySelectorAll('input,select,textarea');
        const text = normalize(c.innerText);
        if (text || controls.length !== 1) return text;
        const k = controls[0];
        if (k.type === 'checkbox' || k.type === 'radio') return String(k.checked);
        if (k.localName === 'select') return normalize(k.selectedOptions[0] ? k.selectedOptions[0].label : '');
        return k.value;
      };
      let rows;
      let header = null;
      let cellsOf;
      if (el.localName === 'table') {
        rows = Array.from(el.rows).filter((r) => r.closest('table') === el);
        const head = el.tHead && el.tHead.rows.length ? el.tHead.rows[el.tHead.rows.length - 1] : null;
        if (head) header = head;
        else if (rows.length && Array.from(rows[0].cells).every((c) => c.localName === 'th')) header = rows[0];
        rows = rows.filter((r) => r !== header && !(el.tHead && el.tHead.contains(r)) && !(el.tFoot && el.tFoot.contains(r)));
        rows = rows.filter((r) => Array.from(r.cells).some((c) => c.localName === 'td'));
        cellsOf = (r) => Array.from(r.cells);
      } else {
        rows = Array.from(el.querySelectorAll('[role=row]'));
        header = rows.find((r) => r.querySelector('[role=columnheader]')) || null;
        rows = rows.filter((r) => r !== header);
        cellsOf = (r) => Array.from(r.querySelectorAll('[role=cell],[role=gridcell],[role=columnheader],[role=rowheader]'));
      }
      const headers = header ? cellsOf(header).map(cellText) : [];
      const shown = rows.filter((r) => isVisible(r));
      const data = shown.map((r) => cellsOf(r).map(cellText));
      // Per cell, the attributes a recipe may read instead of the text: the cell's own and those
      // of the first link or control in it (href, value, data-*, any other).
      const attrsOf = (c) => {
        const out = {};
        const inner = c.querySelector('a[href],input,select,button,[data-id],[value]');
        for (const el of inner ? [c, inner] : [c]) for (const a of el.attributes) out[a.name] = a.value;
        return out;
      };
      const attrs = shown.map((r) => cellsOf(r).map(attrsOf));
      let hash = 2166136261;
      const text = JSON.stringify(data);
      for (let i = 0; i < text.length; i++) { hash ^= text.charCodeAt(i); hash = Math.imul(hash, 16777619) >>> 0; }
      return { headers, rows: data, attrs, signature: location.href + '#' + data.length + ':' + hash.toString(16) };
    },

    // The first visible row of the table whose `column` cell reads `value` (whitespace and case
    // ignored), marked with data-steward-within=mark so later steps can act inside it.
    findRow(selectors, column, value, mark) {
      for (const old of document.querySelectorAll('[data-steward-within]')) {
        if (old.getAttribute('data-steward-within') === mark) old.removeAttribute('data-steward-within');
      }
      const t = engine.table(selectors);
      if (t.reason) return { reason: t.reason };
      const c = t.headers.indexOf(column);
      if (c < 0) return { reason: 'the table has no column "' + column + '" (it has: ' + t.headers.join(', ') + ')' };
      const wanted = normalize(value).toLowerCase();
      const i = t.rows.findIndex((r) => normalize(r[c]).toLowerCase() === wanted);
      if (i < 0) return { found: false, signature: t.signature };
      let el = null;
      for (const sel of selectors) {
        try { el = querySel(sel).find(isVisible) || null; } catch (e) { continue; }
        if (el) break;
      }
      const rows = el.localName === 'table'
        ? Array.from(el.rows).filter((r) => r.closest('table') === el && isVisible(r) && Array.from(r.cells).some((x) => x.localName === 'td'))
        : Array.from(el.querySelectorAll('[role=row]')).filter((r) => isVisible(r) && !r.querySelector('[role=columnheader]'));
      if (rows[i]) rows[i].setAttribute('data-steward-within', mark);
      return { found: true, headers: t.headers, cells: t.rows[i], attrs: t.attrs[i] };
    },

    // Whether a "next page" control exists and can be used: 'ready', 'disabled' or 'absent'.
    pagerState(selectors) {
      for (const sel of selectors) {
        let el;
        try { el = querySel(sel).find(isVisible); } catch (e) { continue; }
        if (!el) continue;
        if (isDisabled(el) || (el.localName === 'a' && !el.hasAttribute('href'))) return 'disabled';
        return 'ready';
      }
      return 'absent';
    },
  };
  Object.defineProperty(globalThis, KEY, { value: engine, configurable: true });
  return engine;
})()
"""#
