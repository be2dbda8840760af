using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Tokenizers;

public sealed class ClipTokenizerFolderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("clip-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void CopyFixture(string name) => File.Copy(Fixtures.PathOf("clip-tokenizer", name), Path.Combine(_folder, name));

    private void Write(string name, string text) => File.WriteAllText(Path.Combine(_folder, name), text);

    private string PathIn(string name) => Path.Combine(_folder, name);

    [Fact]
    public void Missing_folder_is_reported()
    {
        var missing = Path.Combine(_folder, "nope");
        var error = Assert.Throws<DirectoryNotFoundException>(() => ClipTokenizer.FromFolder(missing));
        Assert.Equal($"Tokenizer folder '{missing}' does not exist.", error.Message);
    }

    [Fact]
    public void Missing_merges_is_reported_by_name()
    {
        CopyFixture("vocab.json");
        var error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"Tokenizer folder '{_folder}' has no merges.txt.", error.Message);
        Assert.Equal(PathIn("merges.txt"), error.FileName);
    }

    [Fact]
    public void Missing_vocab_is_reported_by_name()
    {
        CopyFixture("merges.txt");
        var error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"Tokenizer folder '{_folder}' has no vocab.json.", error.Message);
    }

    [Fact]
    public void Pipeline_folder_points_to_its_tokenizer_subfolder()
    {
        Directory.CreateDirectory(PathIn("tokenizer"));
        File.Copy(Fixtures.PathOf("clip-tokenizer", "vocab.json"), Path.Combine(_folder, "tokenizer", "vocab.json"));
        var error = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"Tokenizer folder '{_folder}' has no vocab.json (a pipeline folder: pass its 'tokenizer' subfolder).", error.Message);
    }

    [Fact]
    public void Vocab_that_is_not_json_is_reported_with_its_path()
    {
        Write("vocab.json", "{\"a\": 0,");
        CopyFixture("merges.txt");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.StartsWith($"'{PathIn("vocab.json")}' is not valid JSON: ", error.Message);
    }

    [Fact]
    public void Vocab_that_is_not_an_object_is_reported()
    {
        Write("vocab.json", "[1, 2]");
        CopyFixture("merges.txt");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("vocab.json")}' must be a JSON object mapping tokens to ids, found Array.", error.Message);
    }

    [Fact]
    public void Vocab_with_a_non_integer_id_is_reported_with_the_token()
    {
        Write("vocab.json", "{\"a</w>\": \"zero\"}");
        CopyFixture("merges.txt");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("vocab.json")}': the id of token 'a</w>' must be a non-negative integer, found \"zero\".", error.Message);
    }

    [Fact]
    public void Vocab_with_a_repeated_id_is_reported()
    {
        Write("vocab.json", "{\"a\": 1, \"b\": 1}");
        CopyFixture("merges.txt");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("vocab.json")}': id 1 is used by both 'a' and 'b'.", error.Message);
    }

    [Fact]
    public void Vocab_without_special_tokens_is_reported()
    {
        Write("vocab.json", "{\"a\": 0, \"<|startoftext|>\": 1}");
        CopyFixture("merges.txt");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("vocab.json")}' has no '<|endoftext|>' token.", error.Message);
    }

    [Fact]
    public void Malformed_merge_line_is_reported_with_its_line_number()
    {
        CopyFixture("vocab.json");
        Write("merges.txt", "#version: 0.2\ni n\nt h e\n");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("merges.txt")}' line 3: expected 'left right', found 't h e'.", error.Message);
    }

    [Fact]
    public void Empty_merges_is_reported()
    {
        CopyFixture("vocab.json");
        Write("merges.txt", "#version: 0.2\n");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("merges.txt")}' contains no merges.", error.Message);
    }

    [Theory]
    [InlineData("special_tokens_map.json", "{\"pad_token\": \"!\"}", 0)]
    [InlineData("special_tokens_map.json", "{\"pad_token\": \"<|endoftext|>\"}", 49407)]
    [InlineData("special_tokens_map.json", "{\"pad_token\": {\"content\": \"!\", \"lstrip\": false}}", 0)]
    [InlineData("tokenizer_config.json", "{\"pad_token\": {\"__type\": \"AddedToken\", \"content\": \"!\"}}", 0)]
    [InlineData("tokenizer_config.json", "{\"pad_token\": \"<|endoftext|>\"}", 49407)]
    [InlineData("tokenizer_config.json", "{\"pad_token\": null}", 49407)]
    [InlineData("tokenizer_config.json", "{\"model_max_length\": 77}", 49407)]
    public void Pad_token_is_read_from_the_folder(string file, string json, int padId)
    {
        CopyFixture("vocab.json");
        CopyFixture("merges.txt");
        Write(file, json);
        var tokenizer = ClipTokenizer.FromFolder(_folder);
        Assert.Equal(padId, tokenizer.PadId);
        Assert.Equal(padId, tokenizer.EncodeForModel("a dog").Ids[^1]);
    }

    [Fact]
    public void Special_tokens_map_wins_over_tokenizer_config()
    {
        CopyFixture("vocab.json");
        CopyFixture("merges.txt");
        Write("special_tokens_map.json", "{\"pad_token\": \"!\"}");
        Write("tokenizer_config.json", "{\"pad_token\": \"<|endoftext|>\"}");
        Assert.Equal(0, ClipTokenizer.FromFolder(_folder).PadId);
    }

    [Fact]
    public void Unknown_pad_token_is_reported()
    {
        CopyFixture("vocab.json");
        CopyFixture("merges.txt");
        Write("special_tokens_map.json", "{\"pad_token\": \"<pad>\"}");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromFolder(_folder));
        Assert.Equal($"'{PathIn("special_tokens_map.json")}': pad_token '<pad>' is not in vocab.json.", error.Message);
    }
}
