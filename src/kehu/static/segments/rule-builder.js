/* Kehu rule builder: edits a classification rule's condition tree (segments/rules.py)
 * as nested groups of "field operator value" rows and keeps the JSON in a hidden input.
 *
 * Markup: <div data-rule-builder data-fields-id="…" data-input="…" data-text-*="…">;
 * the hidden input is the nearest <input name="{data-input}"> around the builder.
 * API: window.KehuRuleBuilder.init(element), .serialize(element) -> condition object.
 * No framework and no innerHTML: every value and label goes through textContent/.value.
 */
(function () {
  'use strict';
  if (window.KehuRuleBuilder) return; // included twice: keep the first, its listeners are live

  var MAX_DEPTH = 5; // the server refuses groups nested deeper (rules.MAX_DEPTH)
  var SPLIT = /[,，、]/; // people type Chinese commas and enumeration marks as often as ","
  var READY = 'data-rule-builder-ready';
  var CSS =
    '.rb-group{margin:.25rem 0}' +
    '.rb-items .rb-group{border-left:3px solid #bcccdc;padding-left:.75rem}' +
    '.rb-head,.rb-test,.rb-actions{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}' +
    '.rb-items{display:flex;flex-direction:column;gap:.4rem;margin:.4rem 0}' +
    '.rb-group select,.rb-group input{width:auto;max-width:100%}' +
    '.rb-group input[type=number]{width:7em}.rb-raw{font-family:monospace}';

  function injectCss() {
    if (document.getElementById('kehu-rule-builder-css')) return;
    var style = document.createElement('style');
    style.id = 'kehu-rule-builder-css';
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  // Small element factory: attributes (null ones skipped), then children, then .value.
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var v = attrs[key];
      if (v == null || key === 'value') return;
      if (key === 'text') el.textContent = v;
      else el.setAttribute(key, String(v));
    });
    (children || []).forEach(function (child) { if (child) el.appendChild(child); });
    if (attrs && attrs.value != null) el.value = String(attrs.value);
    return el;
  }

  function option(value, label) {
    return h('option', { value: String(value), text: String(label) });
  }

  function button(text, label, onClick) {
    var b = h('button', { type: 'button', text: text, 'aria-label': label });
    b.addEventListener('click', onClick);
    return b;
  }

  // A number, or null while the input is empty or not a number (the server reports it).
  function toNumber(text) {
    var s = String(text == null ? '' : text).trim();
    if (s === '') return null;
    var n = Number(s);
    return isFinite(n) ? n : null;
  }

  function isGroup(node) {
    return !!node && typeof node === 'object' && ('conditions' in node || 'op' in node);
  }

  // How many value inputs an operator takes.
  function shapeOf(op) {
    if (op === 'empty' || op === 'not_empty') return 'none';
    if (op === 'between') return 'two';
    if (op === 'in' || op === 'not_in') return 'list';
    return 'one';
  }

  // Carry a value over to another operator's shape: 5 -> [5, null] -> 5, "a" -> ["a"].
  function coerce(value, shape) {
    var first = Array.isArray(value) ? value[0] : value;
    if (shape === 'none') return undefined;
    if (shape === 'two') return Array.isArray(value) ? value.slice(0, 2) : [first, null];
    if (shape === 'list') {
      if (Array.isArray(value)) return value;
      return first == null || first === '' ? [] : [first];
    }
    return first;
  }

  function texts(el) {
    var d = el.dataset;
    // Fallbacks are symbols or the JSON words, so nothing English appears untranslated.
    return {
      all: d.textAll || 'and', any: d.textAny || 'or',
      addCondition: d.textAddCondition || '+', addGroup: d.textAddGroup || '+ ( )',
      remove: d.textRemove || '×', days: d.textDays || '', and: d.textAnd || '–',
      commaHint: d.textCommaHint || ''
    };
  }

  function readFields(el) {
    var script = document.getElementById(el.dataset.fieldsId || '');
    try {
      var list = JSON.parse(script ? script.textContent : '[]');
      return Array.isArray(list) ? list.filter(function (f) { return f && f.name; }) : [];
    } catch (e) {
      return [];
    }
  }

  // The nearest matching input around the builder: works with several forms per page,
  // and is looked up on every sync because htmx may have swapped it since.
  function findHidden(el) {
    var name = el.dataset.input || 'conditions';
    var selector = 'input[name="' + name.replace(/["\\]/g, '\\$&') + '"]';
    for (var node = el.parentElement; node; node = node.parentElement) {
      var found = node.querySelector(selector);
      if (found) return found;
    }
    return null;
  }

  function blankTest(ctx) {
    var f = ctx.fields[0];
    return f ? retarget(ctx, {}, f.name) : { field: '', operator: '' };
  }

  // A test moved to another field: keep the operator when allowed, the value when the
  // kind is the same and neither field restricts values to fixed choices.
  function retarget(ctx, old, name) {
    var f = ctx.byName.get(name);
    var prev = ctx.byName.get(old.field);
    var ops = (f.operators || []).map(function (o) { return o.op; });
    var operator = ops.indexOf(old.operator) >= 0 ? old.operator : ops[0];
    var keep = prev && prev.kind === f.kind && !(prev.choices || []).length &&
      !(f.choices || []).length;
    var next = { field: name, operator: operator, value: keep ? old.value : undefined };
    if (name === 'purchases_in_days') next.days = old.days != null ? old.days : 90;
    return next;
  }

  // Options for a select of choices; values outside the choices get their own option
  // so that loading and saving never loses them.
  function choiceSelect(attrs, choices, selected) {
    var sel = h('select', attrs);
    var known = choices.map(function (c) { return String(c.value); });
    choices.forEach(function (c) { sel.appendChild(option(c.value, c.label)); });
    selected.forEach(function (v) { if (known.indexOf(v) < 0) sel.appendChild(option(v, v)); });
    Array.prototype.forEach.call(sel.options, function (o) {
      o.selected = selected.indexOf(o.value) >= 0;
    });
    if (!sel.multiple && !selected.length && sel.options.length) sel.selectedIndex = 0;
    return sel;
  }

  // The value inputs for an operator: {nodes, read()}.
  function valueEditor(ctx, field, op, value, label) {
    var t = ctx.t;
    var isNumber = field.kind === 'number';
    var choices = Array.isArray(field.choices) ? field.choices : [];
    var shape = shapeOf(op);
    var cls = 'rb-value';
    if (shape === 'none') return { nodes: [], read: function () { return undefined; } };
    if (shape === 'two') {
      var pair = value || [];
      var low = h('input', { type: 'number', step: 'any', 'class': cls, 'aria-label': label, value: pair[0] });
      var high = h('input', {
        type: 'number', step: 'any', 'class': cls, 'aria-label': label + ' ' + t.and, value: pair[1]
      });
      return {
        nodes: [low, h('span', { 'class': 'rb-word', text: t.and }), high],
        read: function () { return [toNumber(low.value), toNumber(high.value)]; }
      };
    }
    if (shape === 'list') {
      var strings = value.map(String);
      if (choices.length) {
        var multi = choiceSelect({
          multiple: '', 'class': cls, 'aria-label': label, size: Math.min(6, choices.length + 1)
        }, choices, strings);
        return {
          nodes: [multi],
          read: function () { return Array.prototype.map.call(multi.selectedOptions, function (o) { return o.value; }); }
        };
      }
      var list = h('input', {
        type: 'text', 'class': cls, 'aria-label': label, placeholder: t.commaHint || null,
        title: t.commaHint || null, value: strings.join(', ')
      });
      // The loaded list is kept exactly (its values may contain commas) until edited.
      var kept = value;
      list.addEventListener('input', function () { kept = null; });
      return {
        nodes: [list],
        read: function () {
          return kept || list.value.split(SPLIT).map(function (s) { return s.trim(); }).filter(Boolean);
        }
      };
    }
    var asValue = function (s) { return isNumber ? toNumber(s) : s; };
    if (choices.length && ['eq', 'ne', 'has', 'has_not'].indexOf(op) >= 0) {
      var picked = value == null || value === '' ? [] : [String(value)];
      var sel = choiceSelect({ 'class': cls, 'aria-label': label }, choices, picked);
      return { nodes: [sel], read: function () { return asValue(sel.value); } };
    }
    var input = h('input', {
      type: isNumber ? 'number' : 'text', step: isNumber ? 'any' : null, 'class': cls,
      'aria-label': label, value: value
    });
    return { nodes: [input], read: function () { return asValue(input.value); } };
  }

  // (Re)build a test row from a test object; the row's rbRead() gives it back.
  function fillTest(ctx, row, node) {
    var t = ctx.t;
    var field = ctx.byName.get(node.field);
    var rawName = node.field == null ? '' : String(node.field);
    var rawOp = node.operator == null ? '' : String(node.operator);
    var rerender = function (next, cls) {
      fillTest(ctx, row, next);
      row.querySelector('.' + cls).focus(); // keep keyboard users where they were
    };
    row.textContent = '';

    var fieldSel = h('select', { 'class': 'rb-field', 'aria-label': field ? field.label : rawName });
    ctx.fields.forEach(function (f) { fieldSel.appendChild(option(f.name, f.label)); });
    if (!field) fieldSel.appendChild(option(rawName, rawName));
    fieldSel.value = field ? field.name : rawName;
    fieldSel.addEventListener('change', function () {
      if (ctx.byName.has(fieldSel.value)) rerender(retarget(ctx, row.rbRead(), fieldSel.value), 'rb-field');
    });
    row.appendChild(fieldSel);

    if (!field) {
      // Unknown to this catalogue: shown read-only and saved exactly as loaded.
      row.appendChild(h('select', { 'class': 'rb-operator', disabled: '', 'aria-label': rawOp }, [option(rawOp, rawOp)]));
      if ('value' in node) row.appendChild(h('span', { 'class': 'rb-raw', text: JSON.stringify(node.value) }));
      row.rbRead = function () { return node; };
    } else {
      var ops = Array.isArray(field.operators) ? field.operators : [];
      var current = ops.filter(function (o) { return o.op === rawOp; })[0];
      var opSel = h('select', { 'class': 'rb-operator', 'aria-label': current ? current.label : rawOp });
      ops.forEach(function (o) { opSel.appendChild(option(o.op, o.label)); });
      if (!current) opSel.appendChild(option(rawOp, rawOp)); // kept so the server can name it
      opSel.value = rawOp;
      opSel.addEventListener('change', function () {
        var next = row.rbRead();
        next.operator = opSel.value;
        rerender(next, 'rb-operator');
      });
      row.appendChild(opSel);

      var label = field.label + ' ' + (current ? current.label : rawOp);
      var editor = valueEditor(ctx, field, rawOp, coerce(node.value, shapeOf(rawOp)), label);
      editor.nodes.forEach(function (n) { row.appendChild(n); });
      var days = null;
      if (field.name === 'purchases_in_days') {
        days = h('input', {
          type: 'number', min: 1, step: 1, 'class': 'rb-days', 'aria-label': t.days,
          value: node.days != null ? node.days : 90
        });
        row.appendChild(days);
        row.appendChild(h('span', { 'class': 'rb-word', text: t.days }));
      }
      row.rbRead = function () {
        var out = { field: field.name, operator: opSel.value };
        if (shapeOf(opSel.value) !== 'none') out.value = editor.read();
        if (days) out.days = toNumber(days.value);
        return out;
      };
    }
    if (row.rbRemovable) {
      row.appendChild(button(t.remove, t.remove + ' ' + (field ? field.label : rawName), function () {
        row.remove();
        sync(ctx, true);
      }));
    }
  }

  function testEl(ctx, node) {
    var row = h('div', { 'class': 'rb-test' });
    row.rbRemovable = true; // only groups can be the (unremovable) root
    fillTest(ctx, row, node);
    return row;
  }

  function groupEl(ctx, node, depth) {
    var t = ctx.t;
    var op = h('select', { 'class': 'rb-op', 'aria-label': t.all + ' / ' + t.any }, [
      option('and', t.all), option('or', t.any)
    ]);
    op.value = node.op === 'or' ? 'or' : 'and';
    var items = h('div', { 'class': 'rb-items' });
    var add = function (child) {
      items.appendChild(isGroup(child) ? groupEl(ctx, child, depth + 1) : testEl(ctx, child));
    };
    var actions = h('div', { 'class': 'rb-actions' }, [
      button(t.addCondition, t.addCondition, function () {
        add(blankTest(ctx));
        sync(ctx, true);
        items.lastElementChild.querySelector('select').focus();
      }),
      depth < MAX_DEPTH && button(t.addGroup, t.addGroup, function () {
        add({ op: 'and', conditions: [blankTest(ctx)] }); // a group needs a condition
        sync(ctx, true);
        items.lastElementChild.querySelector('select').focus();
      })
    ]);
    var box = h('div', { 'class': 'rb-group', role: 'group', 'aria-label': t.all + ' / ' + t.any }, [
      h('div', { 'class': 'rb-head' }, [op, actions]),
      items
    ]);
    if (depth > 1) {
      actions.appendChild(button(t.remove, t.remove, function () {
        box.remove();
        sync(ctx, true);
      }));
    }
    (Array.isArray(node.conditions) ? node.conditions : []).forEach(add);
    box.rbRead = function () {
      return {
        op: op.value,
        conditions: Array.prototype.map.call(items.children, function (c) { return c.rbRead(); })
      };
    };
    return box;
  }

  function parseRoot(text) {
    var node;
    try {
      node = JSON.parse(text || '');
    } catch (e) {
      node = null;
    }
    if (!node || typeof node !== 'object' || Array.isArray(node)) return { op: 'and', conditions: [] };
    return isGroup(node) ? node : { op: 'and', conditions: [node] }; // the root is a group
  }

  // Write the tree into the hidden input; "notify" fires change for htmx & co.
  function sync(ctx, notify) {
    var hidden = findHidden(ctx.el);
    if (!hidden) return;
    var json = JSON.stringify(serialize(ctx.el));
    if (json === hidden.value) return; // input then change for one edit: notify once
    hidden.value = json;
    if (notify) hidden.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function serialize(el) {
    var root = el && el.querySelector(':scope > .rb-group');
    return root ? root.rbRead() : null;
  }

  function init(el) {
    if (!el || el.hasAttribute(READY)) return;
    el.setAttribute(READY, '');
    injectCss();
    var fields = readFields(el);
    var ctx = {
      el: el, t: texts(el), fields: fields,
      byName: new Map(fields.map(function (f) { return [f.name, f]; }))
    };
    var hidden = findHidden(el);
    var root = parseRoot(hidden && hidden.value);
    if (!Array.isArray(root.conditions) || !root.conditions.length) {
      root = { op: root.op, conditions: fields.length ? [blankTest(ctx)] : [] };
    }
    el.textContent = '';
    el.appendChild(groupEl(ctx, root, 1));
    var onEdit = function (event) {
      if (event.target !== findHidden(el)) sync(ctx, true);
    };
    el.addEventListener('input', onEdit);
    el.addEventListener('change', onEdit);
    sync(ctx, false); // the input holds what is shown, without pretending the user edited
  }

  function initAll() {
    document.querySelectorAll('[data-rule-builder]:not([' + READY + '])').forEach(init);
  }

  window.KehuRuleBuilder = { init: init, serialize: serialize };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', initAll);
  else initAll();
  // htmx swaps in forms (errors, new rules): initialise builders that are new.
  document.addEventListener('htmx:afterSwap', initAll);
})();
