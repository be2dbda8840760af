using Peft.Typed.Architecture.Diagnostics;
using Peft.Typed.Architecture.Json;

namespace Peft.Typed.Architecture.Tests.Json;

public sealed class JsonReaderTests
{
    [Fact]
    public void Values_and_keys_keep_one_based_lines_and_columns()
    {
        const string text = "{\n  \"a\": [1, 2.5, -3e2],\n  \"b\": {\"c\": \"x\\ny\"},\n  \"d\": true, \"e\": null\n}";
        var root = Assert.IsType<JsonObject>(JsonReader.Parse(text, "t.json"));

        Assert.Equal(new SourceSpan(0, text.Length, 1, 1, 5, 2), root.Span);
        Assert.Equal(["a", "b", "d", "e"], root.Properties.Select(p => p.Name));
        var a = root.Find("a")!;
        Assert.Equal((2, 3, 3), (a.NameSpan.Line, a.NameSpan.Column, a.NameSpan.Length));
        var array = Assert.IsType<JsonArray>(a.Value);
        Assert.Equal((2, 8, 2, 22), (array.Span.Line, array.Span.Column, array.Span.EndLine, array.Span.EndColumn));
        var items = array.Items.Cast<JsonNumber>().ToList();
        Assert.Equal((2, 12, 3), (items[1].Span.Line, items[1].Span.Column, items[1].Span.Length));
        Assert.Equal([true, false, false], items.Select(n => n.IsInteger));
        Assert.Equal(-300.0, items[2].ToDouble());
        var c = Assert.IsType<JsonString>(Assert.IsType<JsonObject>(root.Find("b")!.Value).Find("c")!.Value);
        Assert.Equal("x\ny", c.Value);
        Assert.Equal((3, 14), (c.Span.Line, c.Span.Column));
        Assert.Equal((4, 8), (root.Find("d")!.Value.Span.Line, root.Find("d")!.Value.Span.Column));
        Assert.IsType<JsonNull>(root.Find("e")!.Value);
        Assert.Equal((4, 19), (root.Find("e")!.Value.Span.Line, root.Find("e")!.Value.Span.Column));
    }

    [Fact]
    public void Unicode_escapes_python_float_literals_crlf_and_bom_are_read()
    {
        const string text = "\uFEFF{\"s\": \"\\u00e9\\ud83d\\ude00\\/\\t\",\r\n \"n\": [NaN, Infinity, -Infinity]}";
        var root = Assert.IsType<JsonObject>(JsonReader.Parse(text, "t.json"));

        Assert.Equal("é😀/\t", Assert.IsType<JsonString>(root.Find("s")!.Value).Value);
        var numbers = Assert.IsType<JsonArray>(root.Find("n")!.Value).Items.Cast<JsonNumber>().Select(n => n.ToDouble());
        Assert.Equal([double.NaN, double.PositiveInfinity, double.NegativeInfinity], numbers);
        Assert.Equal((1, 1), (root.Span.Line, root.Span.Column));
        Assert.Equal((2, 2), (root.Find("n")!.NameSpan.Line, root.Find("n")!.NameSpan.Column));
    }

    [Theory]
    [InlineData("{\"a\": 1,}", "Trailing comma before '}' is not allowed in JSON.", 1, 8)]
    [InlineData("{\"a\": [1,\n]}", "Trailing comma before ']' is not allowed in JSON.", 1, 9)]
    [InlineData("{\"a\" 1}", "Expected ':' after the property name \"a\", found '1'.", 1, 6)]
    [InlineData("{\n  \"a\": 1\n  \"b\": 2\n}", "Expected ',' or '}' after the value of \"a\", found '\"'.", 3, 3)]
    [InlineData("[1, 2", "Expected ',' or ']' after an array item, found end of file.", 1, 6)]
    [InlineData("{'a': 1}", "Expected a property name in double quotes, found '''.", 1, 2)]
    [InlineData("{\"a\": tru}", "Invalid token 'tru'; expected a value (object, array, string, number, true, false or null).", 1, 7)]
    [InlineData("{\"a\": True}", "Invalid token 'True'; expected a value (object, array, string, number, true, false or null).", 1, 7)]
    [InlineData("{\"a\": 01}", "Invalid number '01'. Leading zeros are not allowed.", 1, 7)]
    [InlineData("{\"a\": 1.}", "Invalid number '1.'.", 1, 7)]
    [InlineData("{\"a\": @}", "Unexpected '@'; expected a value.", 1, 7)]
    [InlineData("{\"a\": \"x}", "Unterminated string: the file ends before the closing quote.", 1, 7)]
    [InlineData("{\"a\": \"x\n\"}", "Unterminated string: line break before the closing quote.", 1, 7)]
    [InlineData("{\"a\": \"\\q\"}", "Invalid escape sequence '\\q' in a string.", 1, 8)]
    [InlineData("{\"a\": \"\\u12G4\"}", "Invalid escape sequence '\\u12G4': \\u needs four hex digits.", 1, 8)]
    [InlineData("{\"a\": \"x\ty\"}", "Invalid control character U+0009 in a string; write it as an escape sequence.", 1, 9)]
    [InlineData("{\"a\": 1} x", "Unexpected 'x' after the end of the JSON value.", 1, 10)]
    [InlineData("", "Unexpected end of file; expected a value.", 1, 1)]
    [InlineData("{\"a\": 1,\n \"a\": 2}", "Duplicate key \"a\"; it is first defined at line 1, column 2.", 2, 2)]
    public void Malformed_json_is_reported_with_message_line_and_column(string text, string message, int line, int column)
    {
        var error = Assert.Throws<ArchitectureException>(() => JsonReader.Parse(text, "dir/config.json")).First;

        Assert.Equal(ArchitectureDiagnosticCode.MalformedJson, error.Code);
        Assert.Equal(message, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Equal("dir/config.json", error.FilePath);
    }

    [Fact]
    public void Exception_message_names_file_line_and_column()
    {
        var exception = Assert.Throws<ArchitectureException>(() => JsonReader.Parse("{\n  \"a\": 1,\n}", "unet/config.json"));

        Assert.Equal("unet/config.json(2,9): error: Trailing comma before '}' is not allowed in JSON.", exception.Message);
    }
}
