using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Peft.Typed.Architecture.Diagnostics;

namespace Peft.Typed.Architecture.Json;

/// <summary>
/// A small strict JSON parser (RFC 8259 plus Python's NaN/Infinity literals) that records the span of every value
/// and key. It exists because System.Text.Json cannot be used inside a Roslyn source generator without packing it,
/// and because config errors must point at a line and column. Duplicate keys are rejected: in a config file they
/// are always a mistake, and Python would silently keep the last one.
/// </summary>
public sealed class JsonReader
{
    private const int MaxDepth = 256;

    private readonly string _text;
    private readonly string _filePath;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private JsonReader(string text, string filePath)
    {
        _text = text;
        _filePath = filePath;
    }

    /// <summary>Parses a whole document; throws <see cref="ArchitectureException"/> (code MalformedJson) at the first error.</summary>
    public static JsonValue Parse(string text, string filePath) => new JsonReader(text, filePath).ReadDocument();

    private JsonValue ReadDocument()
    {
        if (_text.Length > 0 && _text[0] == '\uFEFF')
        {
            _pos = 1;
            _lineStart = 1;
        }
        SkipWhitespace();
        var value = ReadValue(0);
        SkipWhitespace();
        if (_pos < _text.Length) throw Error($"Unexpected {Found()} after the end of the JSON value.", _pos);
        return value;
    }

    private JsonValue ReadValue(int depth)
    {
        if (_pos >= _text.Length) throw Error("Unexpected end of file; expected a value.", _pos);
        var c = _text[_pos];
        switch (c)
        {
            case '{': return ReadObject(depth + 1);
            case '[': return ReadArray(depth + 1);
            case '"': return ReadString();
        }
        if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
        if (IsWordChar(c)) return ReadLiteral();
        throw Error($"Unexpected {Found()}; expected a value.", _pos);
    }

    private JsonObject ReadObject(int depth)
    {
        CheckDepth(depth);
        var start = Mark();
        _pos++;
        var properties = new List<JsonProperty>();
        var seen = new Dictionary<string, JsonProperty>();
        SkipWhitespace();
        if (Peek() == '}')
        {
            _pos++;
            return new JsonObject(properties, SpanFrom(start));
        }
        while (true)
        {
            if (Peek() != '"') throw Error($"Expected a property name in double quotes, found {Found()}.", _pos);
            var name = ReadString();
            if (seen.TryGetValue(name.Value, out var first))
            {
                throw Error($"Duplicate key \"{name.Value}\"; it is first defined at line {first.NameSpan.Line}, column {first.NameSpan.Column}.", name.Span);
            }
            SkipWhitespace();
            if (Peek() != ':') throw Error($"Expected ':' after the property name \"{name.Value}\", found {Found()}.", _pos);
            _pos++;
            SkipWhitespace();
            var property = new JsonProperty(name.Value, name.Span, ReadValue(depth));
            properties.Add(property);
            seen.Add(property.Name, property);
            SkipWhitespace();
            var next = Peek();
            if (next == '}')
            {
                _pos++;
                return new JsonObject(properties, SpanFrom(start));
            }
            if (next != ',') throw Error($"Expected ',' or '}}' after the value of \"{name.Value}\", found {Found()}.", _pos);
            var comma = Mark();
            _pos++;
            SkipWhitespace();
            if (Peek() == '}') throw Error("Trailing comma before '}' is not allowed in JSON.", comma);
        }
    }

    private JsonArray ReadArray(int depth)
    {
        CheckDepth(depth);
        var start = Mark();
        _pos++;
        var items = new List<JsonValue>();
        SkipWhitespace();
        if (Peek() == ']')
        {
            _pos++;
            return new JsonArray(items, SpanFrom(start));
        }
        while (true)
        {
            items.Add(ReadValue(depth));
            SkipWhitespace();
            var next = Peek();
            if (next == ']')
            {
                _pos++;
                return new JsonArray(items, SpanFrom(start));
            }
            if (next != ',') throw Error($"Expected ',' or ']' after an array item, found {Found()}.", _pos);
            var comma = Mark();
            _pos++;
            SkipWhitespace();
            if (Peek() == ']') throw Error("Trailing comma before ']' is not allowed in JSON.", comma);
        }
    }

    private JsonString ReadString()
    {
        var start = Mark();
        _pos++;
        StringBuilder? builder = null;
        var runStart = _pos;
        while (true)
        {
            if (_pos >= _text.Length) throw Error("Unterminated string: the file ends before the closing quote.", start);
            var c = _text[_pos];
            if (c == '"')
            {
                var value = builder is null
                    ? _text.Substring(runStart, _pos - runStart)
                    : builder.Append(_text, runStart, _pos - runStart).ToString();
                _pos++;
                return new JsonString(value, SpanFrom(start));
            }
            if (c == '\n' || c == '\r') throw Error("Unterminated string: line break before the closing quote.", start);
            if (c < ' ') throw Error($"Invalid control character U+{(int)c:X4} in a string; write it as an escape sequence.", _pos);
            if (c != '\\')
            {
                _pos++;
                continue;
            }
            builder ??= new StringBuilder();
            builder.Append(_text, runStart, _pos - runStart);
            builder.Append(ReadEscape());
            runStart = _pos;
        }
    }

    private char ReadEscape()
    {
        var backslash = _pos;
        var c = _pos + 1 < _text.Length ? _text[_pos + 1] : '\0';
        _pos += 2;
        switch (c)
        {
            case '"': return '"';
            case '\\': return '\\';
            case '/': return '/';
            case 'b': return '\b';
            case 'f': return '\f';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'u':
                if (_pos + 4 <= _text.Length &&
                    int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                {
                    _pos += 4;
                    return (char)code;
                }
                var shown = _text.Substring(backslash, System.Math.Min(6, _text.Length - backslash));
                throw Error($"Invalid escape sequence '{shown}': \\u needs four hex digits.", backslash);
            default:
                var escape = backslash + 1 < _text.Length ? "\\" + _text[backslash + 1] : "\\";
                throw Error($"Invalid escape sequence '{escape}' in a string.", backslash);
        }
    }

    private JsonNumber ReadNumber()
    {
        var start = Mark();
        var end = ScanToken();
        var token = _text.Substring(_pos, end - _pos);
        if (token != "-Infinity" && !IsValidNumber(token))
        {
            var digits = token[0] == '-' ? 1 : 0;
            var hint = token.Length > digits + 1 && token[digits] == '0' && IsDigit(token[digits + 1]) ? " Leading zeros are not allowed." : "";
            throw Error($"Invalid number '{token}'.{hint}", start, token.Length);
        }
        _pos = end;
        return new JsonNumber(token, SpanFrom(start));
    }

    private JsonValue ReadLiteral()
    {
        var start = Mark();
        var end = ScanToken();
        var word = _text.Substring(_pos, end - _pos);
        _pos = end;
        switch (word)
        {
            case "true": return new JsonBoolean(true, SpanFrom(start));
            case "false": return new JsonBoolean(false, SpanFrom(start));
            case "null": return new JsonNull(SpanFrom(start));
            case "NaN":
            case "Infinity":
                return new JsonNumber(word, SpanFrom(start));
        }
        throw Error($"Invalid token '{word}'; expected a value (object, array, string, number, true, false or null).", start, word.Length);
    }

    /// <summary>RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</summary>
    private static bool IsValidNumber(string s)
    {
        var i = 0;
        if (i < s.Length && s[i] == '-') i++;
        if (i >= s.Length || !IsDigit(s[i])) return false;
        if (s[i] == '0') i++;
        else while (i < s.Length && IsDigit(s[i])) i++;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            if (i >= s.Length || !IsDigit(s[i])) return false;
            while (i < s.Length && IsDigit(s[i])) i++;
        }
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            i++;
            if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
            if (i >= s.Length || !IsDigit(s[i])) return false;
            while (i < s.Length && IsDigit(s[i])) i++;
        }
        return i == s.Length;
    }

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsWordChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c is '_' or '.' or '+' or '-';

    /// <summary>The end of the number or word starting here, so an error can quote the whole token.</summary>
    private int ScanToken()
    {
        var end = _pos;
        while (end < _text.Length && IsWordChar(_text[end])) end++;
        return end;
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == ' ' || c == '\t')
            {
                _pos++;
            }
            else if (c == '\n' || c == '\r')
            {
                _pos++;
                if (c == '\r' && _pos < _text.Length && _text[_pos] == '\n') _pos++;
                _line++;
                _lineStart = _pos;
            }
            else
            {
                return;
            }
        }
    }

    private void CheckDepth(int depth)
    {
        if (depth > MaxDepth) throw Error($"JSON nesting is deeper than {MaxDepth} levels.", _pos);
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private string Found()
    {
        if (_pos >= _text.Length) return "end of file";
        var c = _text[_pos];
        return c > ' ' && c < 0x7F ? $"'{c}'" : $"character U+{(int)c:X4}";
    }

    private Position Mark() => new Position(_pos, _line, _pos - _lineStart + 1);

    /// <summary>Values never contain a line break except in the whitespace of objects and arrays, which SkipWhitespace counts.</summary>
    private SourceSpan SpanFrom(Position start) =>
        new SourceSpan(start.Offset, _pos - start.Offset, start.Line, start.Column, _line, _pos - _lineStart + 1);

    private ArchitectureException Error(string message, int offset)
    {
        // Errors are raised at the current line or at a mark on it (strings and tokens never span lines).
        var column = offset - _lineStart + 1;
        var length = offset < _text.Length ? 1 : 0;
        return Error(message, new SourceSpan(offset, length, _line, column, _line, column + length));
    }

    private ArchitectureException Error(string message, Position at, int length = 1) =>
        Error(message, new SourceSpan(at.Offset, length, at.Line, at.Column, at.Line, at.Column + length));

    private ArchitectureException Error(string message, SourceSpan span) =>
        new ArchitectureException(new ArchitectureDiagnostic(ArchitectureDiagnosticCode.MalformedJson, ArchitectureSeverity.Error, message, _filePath, span));

    private readonly struct Position
    {
        public Position(int offset, int line, int column)
        {
            Offset = offset;
            Line = line;
            Column = column;
        }

        public int Offset { get; }
        public int Line { get; }
        public int Column { get; }
    }
}
