//! A small JSON reader: the tests have no JSON crate.

use anyhow::{Context, Result, bail, ensure};

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn arr(&self) -> Option<&Vec<Json>> {
        match self {
            Json::Arr(items) => Some(items),
            _ => None,
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn num(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }
    /// The string field `key`, "" when absent.
    pub fn str_of(&self, key: &str) -> String {
        self.get(key)
            .and_then(Json::str)
            .unwrap_or_default()
            .to_owned()
    }
}

pub fn json(text: &str) -> Result<Json> {
    let mut reader = JsonReader {
        chars: text.chars().collect(),
        at: 0,
    };
    let value = reader
        .value()
        .with_context(|| format!("bad JSON: {text}"))?;
    reader.space();
    ensure!(
        reader.at == reader.chars.len(),
        "trailing text after JSON: {text}"
    );
    Ok(value)
}

struct JsonReader {
    chars: Vec<char>,
    at: usize,
}

impl JsonReader {
    fn space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn next(&mut self) -> Result<char> {
        let c = *self.chars.get(self.at).context("unexpected end")?;
        self.at += 1;
        Ok(c)
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json> {
        for expected in word.chars() {
            ensure!(self.next()? == expected, "expected `{word}`");
        }
        Ok(value)
    }

    fn value(&mut self) -> Result<Json> {
        self.space();
        match self.chars.get(self.at).copied().context("unexpected end")? {
            'n' => self.literal("null", Json::Null),
            't' => self.literal("true", Json::Bool(true)),
            'f' => self.literal("false", Json::Bool(false)),
            '"' => self.string().map(Json::Str),
            '[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.chars.get(self.at) == Some(&']') {
                    self.at += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    match self.next()? {
                        ',' => {}
                        ']' => return Ok(Json::Arr(items)),
                        c => bail!("expected `,` or `]`, found `{c}`"),
                    }
                }
            }
            '{' => {
                self.at += 1;
                let mut fields = Vec::new();
                self.space();
                if self.chars.get(self.at) == Some(&'}') {
                    self.at += 1;
                    return Ok(Json::Obj(fields));
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    self.space();
                    ensure!(self.next()? == ':', "expected `:`");
                    fields.push((key, self.value()?));
                    self.space();
                    match self.next()? {
                        ',' => {}
                        '}' => return Ok(Json::Obj(fields)),
                        c => bail!("expected `,` or `}}`, found `{c}`"),
                    }
                }
            }
            _ => {
                let start = self.at;
                while self
                    .chars
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
                {
                    self.at += 1;
                }
                let number: String = self.chars[start..self.at].iter().collect();
                Ok(Json::Num(
                    number
                        .parse()
                        .with_context(|| format!("bad number `{number}`"))?,
                ))
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let hex: String = (0..4).map(|_| self.next()).collect::<Result<_>>()?;
        Ok(u32::from_str_radix(&hex, 16)?)
    }

    fn string(&mut self) -> Result<String> {
        ensure!(self.next()? == '"', "expected a string");
        let mut out = String::new();
        loop {
            match self.next()? {
                '"' => return Ok(out),
                '\\' => match self.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let first = self.hex4()?;
                        let code = if (0xD800..0xDC00).contains(&first) {
                            ensure!(
                                self.next()? == '\\' && self.next()? == 'u',
                                "lone surrogate"
                            );
                            let second = self.hex4()?;
                            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                        } else {
                            first
                        };
                        out.push(char::from_u32(code).context("bad \\u escape")?);
                    }
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
    }
}
