// The calculator's arithmetic: a tokenizer and a recursive-descent parser that evaluates as it
// parses. Why not eval() or Function(): the input is typed by a candidate, and the page's CSP has
// no 'unsafe-eval' on purpose; a parser accepts exactly the calculator's grammar and can say where
// an expression went wrong, in words.
//
//   expression := term (("+" | "-") term)*
//   term       := unary (("*" | "/") unary | unary-not-a-number)*   2π, 3(4+1), 2 sin 30
//   unary      := ("-" | "+") unary | power
//   power      := postfix ("^" unary)?                                right-associative; -2^2 = -4
//   postfix    := primary ("%" | "!")*                                50% = 0.5; 5! = 120
//   primary    := number | constant | "(" expression ")" | function primary | "√" primary
//
// The basic calculator accepts numbers, + - × ÷, %, √ and brackets; the scientific one adds
// powers, factorials, the functions below and the constants π and e.

export class CalcError extends Error {
  constructor(message, position) {
    super(message);
    this.position = position;
  }
}

const SYMBOLS = { '×': '*', '·': '*', '÷': '/', '−': '-', '–': '-', '√': 'sqrt', 'π': 'pi', '²': '^2' };
const FUNCTIONS = {
  sqrt: { basic: true, fn: (x) => { if (x < 0) throw new CalcError('no square root of a negative number'); return Math.sqrt(x); } },
  sin: { fn: (x, deg) => Math.sin(deg ? (x * Math.PI) / 180 : x) },
  cos: { fn: (x, deg) => Math.cos(deg ? (x * Math.PI) / 180 : x) },
  tan: { fn: (x, deg) => {
    if (deg && Math.abs(((x % 180) + 180) % 180 - 90) < 1e-12) throw new CalcError('tan is undefined there');
    return Math.tan(deg ? (x * Math.PI) / 180 : x);
  } },
  asin: { fn: (x, deg) => inverse(Math.asin, x, deg) },
  acos: { fn: (x, deg) => inverse(Math.acos, x, deg) },
  atan: { fn: (x, deg) => (deg ? (Math.atan(x) * 180) / Math.PI : Math.atan(x)) },
  ln: { fn: (x) => { if (x <= 0) throw new CalcError('ln needs a positive number'); return Math.log(x); } },
  log: { fn: (x) => { if (x <= 0) throw new CalcError('log needs a positive number'); return Math.log10(x); } },
  abs: { fn: (x) => Math.abs(x) },
};
const CONSTANTS = { pi: Math.PI, e: Math.E };
const MAX_LENGTH = 500;
const MAX_DEPTH = 100;

function inverse(f, x, deg) {
  if (x < -1 || x > 1) throw new CalcError('the argument must be between -1 and 1');
  const r = f(x);
  return deg ? (r * 180) / Math.PI : r;
}

export function tokenize(text) {
  if (text.length > MAX_LENGTH) throw new CalcError(`the expression is longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i += 1; continue; }
    if (SYMBOLS[c]) {
      const mapped = SYMBOLS[c];
      if (mapped === '^2') tokens.push({ t: 'op', v: '^', at: i }, { t: 'num', v: 2, at: i });
      else if (/^[a-z]+$/.test(mapped)) tokens.push({ t: 'name', v: mapped, at: i });
      else tokens.push({ t: 'op', v: mapped, at: i });
      i += 1;
      continue;
    }
    const number = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(text.slice(i));
    if (number) {
      if (text[i + number[0].length] === '.') throw new CalcError('a number has two decimal points', i + number[0].length);
      tokens.push({ t: 'num', v: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const name = /^[a-z]+/i.exec(text.slice(i));
    if (name) {
      tokens.push({ t: 'name', v: name[0].toLowerCase(), at: i });
      i += name[0].length;
      continue;
    }
    if ('+-*/^()%!'.includes(c)) {
      tokens.push({ t: 'op', v: c, at: i });
      i += 1;
      continue;
    }
    throw new CalcError(`"${c}" is not something the calculator knows`, i);
  }
  return tokens;
}

class Parser {
  constructor(tokens, options) {
    this.tokens = tokens;
    this.i = 0;
    this.depth = 0;
    this.scientific = options.mode === 'scientific';
    this.degrees = options.angle !== 'rad';
  }

  peek() { return this.tokens[this.i]; }

  next() { return this.tokens[this.i++]; }

  isOp(v) { const t = this.peek(); return t && t.t === 'op' && t.v === v; }

  position() { const t = this.peek(); return t ? t.at : (this.tokens.length ? this.tokens[this.tokens.length - 1].at + 1 : 0); }

  fail(message) { throw new CalcError(message, this.position()); }

  nest(fn) {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) this.fail('too many brackets inside each other');
    try { return fn(); } finally { this.depth -= 1; }
  }

  expression() {
    return this.nest(() => {
      let value = this.term();
      while (this.isOp('+') || this.isOp('-')) {
        const op = this.next().v;
        const right = this.term();
        value = op === '+' ? value + right : value - right;
      }
      return value;
    });
  }

  startsOperand() {
    const t = this.peek();
    return t && (t.t === 'name' || (t.t === 'op' && t.v === '('));
  }

  term() {
    let value = this.unary();
    for (;;) {
      if (this.isOp('*') || this.isOp('/')) {
        const op = this.next();
        const right = this.unary();
        if (op.v === '/' && right === 0) throw new CalcError('cannot divide by zero', op.at);
        value = op.v === '*' ? value * right : value / right;
      } else if (this.startsOperand()) {
        value *= this.unary(); // implicit product: 2π, 3(4+1)
      } else {
        return value;
      }
    }
  }

  unary() {
    if (this.isOp('-')) { this.next(); return this.nest(() => -this.unary()); }
    if (this.isOp('+')) { this.next(); return this.nest(() => this.unary()); }
    return this.power();
  }

  power() {
    const base = this.postfix();
    if (!this.isOp('^')) return base;
    if (!this.scientific) this.fail('powers are on the scientific calculator');
    this.next();
    const exponent = this.nest(() => this.unary());
    const value = base ** exponent;
    if (Number.isNaN(value)) this.fail('that power has no real value');
    return value;
  }

  postfix() {
    let value = this.primary();
    while (this.isOp('%') || this.isOp('!')) {
      const op = this.next();
      if (op.v === '%') value /= 100;
      else value = factorial(value, op.at, this.scientific);
    }
    return value;
  }

  primary() {
    const t = this.next();
    if (!t) this.fail('the expression ends too soon');
    if (t.t === 'num') return t.v;
    if (t.t === 'op' && t.v === '(') {
      const value = this.expression();
      if (!this.isOp(')')) this.fail('a closing bracket is missing');
      this.next();
      return value;
    }
    if (t.t === 'name') return this.named(t);
    throw new CalcError(`"${t.v}" cannot stand here`, t.at);
  }

  named(t) {
    if (t.v in CONSTANTS) {
      if (!this.scientific) throw new CalcError(`${t.v} is on the scientific calculator`, t.at);
      return CONSTANTS[t.v];
    }
    const f = FUNCTIONS[t.v];
    if (!f) throw new CalcError(`"${t.v}" is not a function the calculator knows`, t.at);
    if (!this.scientific && !f.basic) throw new CalcError(`${t.v} is on the scientific calculator`, t.at);
    const argument = this.nest(() => this.postfixOnly());
    return f.fn(argument, this.degrees);
  }

  postfixOnly() {
    // A function takes the operand right after it, with its sign: sin 30, sin(30), √4, √(2+2),
    // sin -30; a power applies to the function's result (sin(30)^2), as on a hand-held calculator.
    if (this.isOp('-')) { this.next(); return -this.postfixOnly(); }
    if (this.isOp('+')) { this.next(); return this.postfixOnly(); }
    return this.postfix();
  }
}

function factorial(n, at, scientific) {
  if (!scientific) throw new CalcError('factorials are on the scientific calculator', at);
  if (!Number.isInteger(n) || n < 0) throw new CalcError('factorial needs a whole number of 0 or more', at);
  if (n > 170) throw new CalcError('that factorial is too large', at);
  let out = 1;
  for (let k = 2; k <= n; k += 1) out *= k;
  return out;
}

// Evaluate ``text``; options.mode is "basic" or "scientific", options.angle "deg" (default) or "rad".
export function evaluate(text, options = {}) {
  const tokens = tokenize(text);
  if (!tokens.length) throw new CalcError('type a calculation first', 0);
  const parser = new Parser(tokens, options);
  const value = parser.expression();
  if (parser.i < tokens.length) {
    const t = tokens[parser.i];
    throw new CalcError(t.t === 'op' && t.v === ')' ? 'there is a closing bracket too many' : `"${t.v}" cannot stand here`, t.at);
  }
  if (!Number.isFinite(value)) throw new CalcError('the result is too large', text.length);
  return value;
}

// A result as a calculator shows it: at most 12 significant digits, no float noise (0.1+0.2 = 0.3).
export function formatResult(value) {
  if (Object.is(value, -0) || Math.abs(value) < 1e-15) return '0';
  const rounded = Number(value.toPrecision(12));
  const abs = Math.abs(rounded);
  if (abs >= 1e12 || abs < 1e-9) return rounded.toExponential().replace(/\.?0+e/, 'e');
  return String(rounded);
}
