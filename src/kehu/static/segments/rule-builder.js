/* Kehu rule builder: edits a classification rule's condition tree (segments/rules.py)
 * as nested groups of "field operator value" rows and keeps the JSON in a hidden input.
 *
 * Markup: <div data-rule-builder data-fields-id="…" data-input="…" data-text-*="…">;
 * the hidden input is the nearest <input name="{data-input}"> around the builder.
 * API: window.KehuRuleBuilder.init(element), .serialize(element) -> condition object.
 * Plain ES2019, no innerHTML: every value and label goes through textContent / .value.
 */
(() => {
  'use strict';
  if (window.KehuRuleBuilder) return; // included twice: keep the first, its listeners are live

  const MAX_DEPTH = 5; // the server refuses groups nested deeper (rules.MAX_DEPTH)
  const SPLIT = /[,，、]/; // people type Chinese commas and enumeration marks as often as ","
  const READY = 'data-rule-builder-ready';
  const CSS =
    '.rb-group{margin:.25rem 0}' +
    '.rb-items .rb-group{border-left:3px solid #bcccdc;padding-left:.75rem}' +
    '.rb-head,.rb-test,.rb-actions{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}' +
    '.rb-items{display:flex;flex-direction:column;gap:.4rem;margin:.4rem 0}' +
    '.rb-group select,.rb-group input{width:auto;max-width:100%}' +
    '.rb-group input[type=number]{width:7em}.rb-raw{font-family:monospace}';

  const injectCss = () => {
    if (document.getElementById('kehu-rule-builder-css')) return;
    const style = document.createElement('style');
    style.id = 'kehu-rule-builder-css';
    style.textContent = CSS;
    document.head.appendChild(style);
  };

  // Element factory: attributes (null ones skipped; "text" is textContent), children, .value.
  const h = (tag, attrs = {}, children = []) => {
    const el = document.createElement(tag);
    for (const [key, v] of Object.entries(attrs)) {
      if (v == null || key === 'value') continue;
      if (key === 'text') el.textContent = v;
      else el.setAttribute(key, String(v));
    }
    children.forEach((child) => child && el.appendChild(child));
    if (attrs.value != null) el.value = String(attrs.value);
    return el;
  };
  const option = (value, label) => h('option', { value: String(value), text: String(label) });
  const button = (text, label, onClick) => {
    const b = h('button', { type: 'button', text, 'aria-label': label });
    b.addEventListener('click', onClick);
    return b;
  };

  // A number, or null while the input is empty or not a number (the server reports it).
  const toNumber = (text) => {
    const s = String(text == null ? '' : text).trim();
    const n = Number(s);
    return s !== '' && isFinite(n) ? n : null;
  };

  const isGroup = (node) =>
    !!node && typeof node === 'object' && ('conditions' in node || 'op' in node);

  // How many value inputs an operator takes.
  const shapeOf = (op) => {
    if (op === 'empty' || op === 'not_empty') return 'none';
    if (op === 'between') return 'two';
    return op === 'in' || op === 'not_in' ? 'list' : 'one';
  };

  // Carry a value over to another operator's shape: 5 -> [5, null] -> 5, "a" -> ["a"].
  const coerce = (value, shape) => {
    const first = Array.isArray(value) ? value[0] : value;
    if (shape === 'none') return undefined;
    if (shape === 'two') return Array.isArray(value) ? value.slice(0, 2) : [first, null];
    if (shape === 'list') {
      if (Array.isArray(value)) return value;
      return first == null || first === '' ? [] : [first];
    }
    return first;
  };

  // Visible words, translated by the server; fallbacks are symbols or the JSON words.
  const texts = (el) => {
    const d = el.dataset;
    return {
      all: d.textAll || 'and', any: d.textAny || 'or',
      addCondition: d.textAddCondition || '+', addGroup: d.textAddGroup || '+ ( )',
      remove: d.textRemove || '×', days: d.textDays || '', and: d.textAnd || '–',
      commaHint: d.textCommaHint || null,
    };
  };

  const readFields = (el) => {
    const script = document.getElementById(el.dataset.fieldsId || '');
    try {
      const list = JSON.parse(script ? script.textContent : '[]');
      return Array.isArray(list) ? list.filter((f) => f && f.name) : [];
    } catch (e) {
      return [];
    }
  };

  // The nearest matching input around the builder: works with several forms per page,
  // and is looked up on every sync because htmx may have swapped it meanwhile.
  const findHidden = (el) => {
    const name = el.dataset.input || 'conditions';
    const selector = `input[name="${name.replace(/["\\]/g, '\\$&')}"]`;
    for (let node = el.parentElement; node; node = node.parentElement) {
      const found = node.querySelector(selector);
      if (found) return found;
    }
    return null;
  };

  // A test moved to another field: keep the operator when allowed, the value when the
  // kind is the same and neither field restricts values to fixed choices.
  const retarget = (ctx, old, name) => {
    const f = ctx.byName.get(name);
    const prev = ctx.byName.get(old.field);
    const ops = (f.operators || []).map((o) => o.op);
    const operator = ops.includes(old.operator) ? old.operator : ops[0];
    const keep = prev && prev.kind === f.kind && !(prev.choices || []).length &&
      !(f.choices || []).length;
    return { field: name, operator, value: keep ? old.value : undefined }; // days: fillTest
  };

  const blankTest = (ctx) =>
    ctx.fields.length ? retarget(ctx, {}, ctx.fields[0].name) : { field: '', operator: '' };

  // A select of choices; values outside them get their own option so none is lost.
  const choiceSelect = (attrs, choices, selected) => {
    const sel = h('select', attrs, choices.map((c) => option(c.value, c.label)));
    const known = choices.map((c) => String(c.value));
    selected.filter((v) => !known.includes(v)).forEach((v) => sel.appendChild(option(v, v)));
    for (const o of sel.options) o.selected = selected.includes(o.value);
    if (!sel.multiple && !selected.length && sel.options.length) sel.selectedIndex = 0;
    return sel;
  };

  // The value inputs for an operator: {nodes, read()}.
  const valueEditor = (ctx, field, op, value, label) => {
    const { t } = ctx;
    const isNumber = field.kind === 'number';
    const choices = Array.isArray(field.choices) ? field.choices : [];
    const shape = shapeOf(op);
    const base = { class: 'rb-value', 'aria-label': label };
    if (shape === 'none') return { nodes: [], read: () => undefined };
    if (shape === 'two') {
      const pair = value || [];
      const low = h('input', { ...base, type: 'number', step: 'any', value: pair[0] });
      const high = h('input', {
        ...base, type: 'number', step: 'any', value: pair[1], 'aria-label': `${label} ${t.and}`,
      });
      return {
        nodes: [low, h('span', { class: 'rb-word', text: t.and }), high],
        read: () => [toNumber(low.value), toNumber(high.value)],
      };
    }
    if (shape === 'list') {
      const strings = value.map(String);
      if (choices.length) {
        const size = Math.min(6, choices.length + 1);
        const multi = choiceSelect({ ...base, multiple: '', size }, choices, strings);
        return { nodes: [multi], read: () => Array.from(multi.selectedOptions, (o) => o.value) };
      }
      const list = h('input', {
        ...base, type: 'text', placeholder: t.commaHint, title: t.commaHint,
        value: strings.join(', '),
      });
      // The loaded list is kept exactly (its values may contain commas) until edited.
      let kept = value;
      list.addEventListener('input', () => { kept = null; });
      const split = () => list.value.split(SPLIT).map((s) => s.trim()).filter(Boolean);
      return { nodes: [list], read: () => kept || split() };
    }
    const asValue = (s) => (isNumber ? toNumber(s) : s);
    if (choices.length && ['eq', 'ne', 'has', 'has_not'].includes(op)) {
      const picked = value == null || value === '' ? [] : [String(value)];
      const sel = choiceSelect(base, choices, picked);
      return { nodes: [sel], read: () => asValue(sel.value) };
    }
    const input = h('input', {
      ...base, type: isNumber ? 'number' : 'text', step: isNumber ? 'any' : null, value,
    });
    return { nodes: [input], read: () => asValue(input.value) };
  };

  // (Re)build a test row from a test object; the row's rbRead() gives it back.
  const fillTest = (ctx, row, node) => {
    const { t } = ctx;
    const field = ctx.byName.get(node.field);
    const rawName = node.field == null ? '' : String(node.field);
    const rawOp = node.operator == null ? '' : String(node.operator);
    const rerender = (next, cls) => {
      fillTest(ctx, row, next);
      row.querySelector(`.${cls}`).focus(); // keep keyboard users where they were
    };
    row.textContent = '';

    const fieldSel = h('select', { class: 'rb-field', 'aria-label': field ? field.label : rawName },
      ctx.fields.map((f) => option(f.name, f.label)));
    if (!field) fieldSel.appendChild(option(rawName, rawName));
    fieldSel.value = rawName;
    fieldSel.addEventListener('change', () => {
      if (ctx.byName.has(fieldSel.value)) {
        rerender(retarget(ctx, row.rbRead(), fieldSel.value), 'rb-field');
      }
    });
    row.appendChild(fieldSel);

    if (!field) {
      // Unknown to this catalogue: shown read-only and saved exactly as loaded.
      row.appendChild(h('select', { class: 'rb-operator', disabled: '', 'aria-label': rawOp },
        [option(rawOp, rawOp)]));
      if ('value' in node) {
        row.appendChild(h('span', { class: 'rb-raw', text: JSON.stringify(node.value) }));
      }
      row.rbRead = () => node;
    } else {
      const ops = Array.isArray(field.operators) ? field.operators : [];
      const current = ops.find((o) => o.op === rawOp);
      const opLabel = current ? current.label : rawOp;
      const opSel = h('select', { class: 'rb-operator', 'aria-label': opLabel },
        ops.map((o) => option(o.op, o.label)));
      if (!current) opSel.appendChild(option(rawOp, rawOp)); // kept so the server can name it
      opSel.value = rawOp;
      opSel.addEventListener('change', () => {
        rerender({ ...row.rbRead(), operator: opSel.value }, 'rb-operator');
      });
      row.appendChild(opSel);

      const value = coerce(node.value, shapeOf(rawOp));
      const editor = valueEditor(ctx, field, rawOp, value, `${field.label} ${opLabel}`);
      editor.nodes.forEach((n) => row.appendChild(n));
      let days = null;
      if (field.name === 'purchases_in_days') {
        days = h('input', {
          type: 'number', min: 1, step: 1, class: 'rb-days', 'aria-label': t.days,
          value: node.days != null ? node.days : 90,
        });
        row.appendChild(days);
        row.appendChild(h('span', { class: 'rb-word', text: t.days }));
      }
      row.rbRead = () => {
        const out = { field: field.name, operator: opSel.value };
        if (shapeOf(opSel.value) !== 'none') out.value = editor.read();
        if (days) out.days = toNumber(days.value);
        return out;
      };
    }
    row.appendChild(button(t.remove, `${t.remove} ${field ? field.label : rawName}`, () => {
      row.remove();
      sync(ctx, true);
    }));
  };

  const testEl = (ctx, node) => {
    const row = h('div', { class: 'rb-test' });
    fillTest(ctx, row, node);
    return row;
  };

  const groupEl = (ctx, node, depth) => {
    const { t } = ctx;
    const name = `${t.all} / ${t.any}`;
    const op = h('select', { class: 'rb-op', 'aria-label': name },
      [option('and', t.all), option('or', t.any)]);
    op.value = node.op === 'or' ? 'or' : 'and';
    const items = h('div', { class: 'rb-items' });
    const add = (child) =>
      items.appendChild(isGroup(child) ? groupEl(ctx, child, depth + 1) : testEl(ctx, child));
    const added = (child) => {
      add(child);
      sync(ctx, true);
      items.lastElementChild.querySelector('select').focus();
    };
    const actions = h('div', { class: 'rb-actions' }, [
      button(t.addCondition, t.addCondition, () => added(blankTest(ctx))),
      // A new group starts with a test: the server refuses empty groups.
      depth < MAX_DEPTH &&
        button(t.addGroup, t.addGroup, () => added({ op: 'and', conditions: [blankTest(ctx)] })),
    ]);
    const box = h('div', { class: 'rb-group', role: 'group', 'aria-label': name },
      [h('div', { class: 'rb-head' }, [op, actions]), items]);
    if (depth > 1) {
      actions.appendChild(button(t.remove, t.remove, () => {
        box.remove();
        sync(ctx, true);
      }));
    }
    (Array.isArray(node.conditions) ? node.conditions : []).forEach(add);
    box.rbRead = () => ({
      op: op.value,
      conditions: Array.from(items.children, (c) => c.rbRead()),
    });
    return box;
  };

  const parseRoot = (text) => {
    let node = null;
    try {
      node = JSON.parse(text || '');
    } catch (e) {
      // invalid JSON: start afresh, as for an empty input
    }
    if (!node || typeof node !== 'object' || Array.isArray(node)) {
      return { op: 'and', conditions: [] };
    }
    return isGroup(node) ? node : { op: 'and', conditions: [node] }; // the root is a group
  };

  const serialize = (el) => {
    const root = el && el.querySelector(':scope > .rb-group');
    return root ? root.rbRead() : null;
  };

  // Write the tree into the hidden input; "notify" fires change for htmx & co.
  const sync = (ctx, notify) => {
    const hidden = findHidden(ctx.el);
    if (!hidden) return;
    const json = JSON.stringify(serialize(ctx.el));
    if (json === hidden.value) return; // "input" then "change" for one edit: notify once
    hidden.value = json;
    if (notify) hidden.dispatchEvent(new Event('change', { bubbles: true }));
  };

  const init = (el) => {
    if (!el || el.hasAttribute(READY)) return;
    el.setAttribute(READY, '');
    injectCss();
    const fields = readFields(el);
    const ctx = { el, t: texts(el), fields, byName: new Map(fields.map((f) => [f.name, f])) };
    const hidden = findHidden(el);
    let root = parseRoot(hidden && hidden.value);
    if (!Array.isArray(root.conditions) || !root.conditions.length) {
      root = { op: root.op, conditions: fields.length ? [blankTest(ctx)] : [] };
    }
    el.textContent = '';
    el.appendChild(groupEl(ctx, root, 1));
    const onEdit = (event) => {
      if (event.target !== findHidden(el)) sync(ctx, true);
    };
    el.addEventListener('input', onEdit);
    el.addEventListener('change', onEdit);
    sync(ctx, false); // the input now holds what is shown, without claiming a user edit
  };

  const initAll = () =>
    document.querySelectorAll(`[data-rule-builder]:not([${READY}])`).forEach(init);

  window.KehuRuleBuilder = { init, serialize };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', initAll);
  else initAll();
  // htmx swaps in forms (errors, new rules): initialise the builders that are new.
  document.addEventListener('htmx:afterSwap', initAll);
})();
