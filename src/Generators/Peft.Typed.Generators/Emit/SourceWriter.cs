using System;
using System.Text;

namespace Peft.Typed.Generators.Emit;

/// <summary>Writes indented C# text; <see cref="Block"/> opens a brace that the returned scope closes.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>A line without indentation, for the inside of a verbatim string.</summary>
    public SourceWriter Raw(string line)
    {
        _text.Append(line).Append('\n');
        return this;
    }

    /// <summary>Writes <c>{</c>, indents, and writes <c>}</c> (plus <paramref name="closing"/>) when disposed.</summary>
    public IDisposable Block(string closing = "")
    {
        Line("{");
        _indent++;
        return new Closer(this, closing);
    }

    /// <summary>A one-line XML summary.</summary>
    public SourceWriter Summary(string text) => Line("/// <summary>" + text + "</summary>");

    public override string ToString() => _text.ToString();

    private sealed class Closer : IDisposable
    {
        private readonly SourceWriter _writer;
        private readonly string _closing;

        public Closer(SourceWriter writer, string closing)
        {
            _writer = writer;
            _closing = closing;
        }

        public void Dispose()
        {
            _writer._indent--;
            _writer.Line("}" + _closing);
        }
    }
}
