using Peft.Typed.Models.Tokenizers;
using Peft.Typed.Testing;

namespace Peft.Typed.Models.Tests.Tokenizers;

public class ClipTokenizerTests
{
    private static readonly Lazy<ClipTokenizer> Shared = new(() => ClipTokenizer.FromFolder(Fixtures.PathOf("clip-tokenizer")));

    private static ClipTokenizer Tokenizer => Shared.Value;

    public static TheoryData<string> AllCases => ClipTokenizerCases.Names();

    public static TheoryData<string> SensitiveCases => ClipTokenizerCases.Names("normalization-sensitive");

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Model_ids_and_length_equal_the_reference(string name)
    {
        var expected = ClipTokenizerCases.Named(name);
        var encoding = Tokenizer.EncodeForModel(expected.Prompt);
        Assert.Equal(expected.Ids, encoding.Ids);
        Assert.Equal(expected.Length, encoding.Length);
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Bpe_tokens_before_truncation_equal_the_reference(string name)
    {
        var expected = ClipTokenizerCases.Named(name);
        Assert.Equal(expected.BpeTokens, Tokenizer.Tokenize(expected.Prompt));
        Assert.Equal(expected.ContentTokens, Tokenizer.Encode(expected.Prompt).Length);
        Assert.Equal(expected.Truncated, expected.ContentTokens > ClipTokenizer.ModelMaxLength - 2);
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Sd2_padding_is_the_reference_ids_up_to_length_then_zeros(string name)
    {
        var expected = ClipTokenizerCases.Named(name);
        var encoding = Tokenizer.EncodeForModel(expected.Prompt, padId: 0);
        int[] sd2 = [.. expected.Ids.Take(expected.Length), .. Enumerable.Repeat(0, expected.Ids.Length - expected.Length)];
        Assert.Equal(sd2, encoding.Ids);
        Assert.Equal(expected.Length, encoding.Length);
    }

    // We implement the reference normalisation (ftfy + double html.unescape), so every sensitive case must differ
    // from each variant that the fixture lists for it.
    [Theory]
    [MemberData(nameof(SensitiveCases))]
    public void Sensitive_cases_follow_the_reference_not_the_variants(string name)
    {
        var expected = ClipTokenizerCases.Named(name);
        Assert.NotNull(expected.Why);
        Assert.NotEmpty(expected.Variants!);
        var ids = Tokenizer.EncodeForModel(expected.Prompt).Ids;
        Assert.All(expected.Variants!, variant => Assert.NotEqual(variant.Value.Ids, ids));
    }

    [Fact]
    public void The_tokenizer_has_the_fixture_constants_and_every_case_prompt_is_distinct()
    {
        var file = ClipTokenizerCases.All;
        Assert.NotEmpty(file.Cases);
        Assert.Equal(file.Cases.Length, file.Cases.Select(c => c.Prompt).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal((file.MaxLength, file.BosId, file.EosId, file.PadIdSd1), (ClipTokenizer.ModelMaxLength, Tokenizer.BosId, Tokenizer.EosId, Tokenizer.PadId));
    }

    [Fact]
    public void Vocabulary_and_merges_have_the_documented_sizes_and_special_ids()
    {
        Assert.Equal(49_408, Tokenizer.VocabularySize);
        Assert.Equal(48_894, Tokenizer.MergeCount);
        Assert.Equal(49406, Tokenizer.BosId);
        Assert.Equal(49407, Tokenizer.EosId);
        Assert.Equal(49407, Tokenizer.PadId);
    }

    [Fact]
    public void Dreambooth_prompt_gives_the_documented_ids()
    {
        var encoding = Tokenizer.EncodeForModel("a photo of sks dog");
        Assert.Equal([49406, 320, 1125, 539, 48136, 1929, 49407], encoding.Ids[..7]);
        Assert.All(encoding.Ids[7..], id => Assert.Equal(49407, id));
        Assert.Equal([1, 1, 1, 1, 1, 1, 1, .. Enumerable.Repeat(0, 70)], encoding.AttentionMask());
    }

    [Fact]
    public void Shorter_max_length_truncates_content_and_keeps_eos()
    {
        var expected = ClipTokenizerCases.Named("dreambooth_case");
        var encoding = Tokenizer.EncodeForModel(expected.Prompt, maxLength: 5);
        Assert.Equal([49406, .. expected.Ids[1..4], 49407], encoding.Ids);
        Assert.Equal(5, encoding.Length);
    }

    [Fact]
    public void Max_length_below_two_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.EncodeForModel("a dog", maxLength: 1));
        Assert.Equal("maxLength", error.ParamName);
    }
}
