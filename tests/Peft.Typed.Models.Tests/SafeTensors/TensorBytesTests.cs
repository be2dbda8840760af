using Peft.Typed.Models.Runtime;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>The chunked path that tensors over 2 GiB take, exercised with tiny chunks.</summary>
public sealed class TensorBytesTests
{
    [Theory]
    [InlineData(8)] // two F32 per chunk
    [InlineData(12)] // three per chunk, the last chunk short
    [InlineData(5)] // not a multiple of the element size: rounds down to one element
    [InlineData(3)] // smaller than an element: still one element per chunk
    public unsafe void CopyInto_and_WriteTo_in_chunks_match_the_bytes(long chunkBytes)
    {
        using var scope = NewDisposeScope();
        var expected = TensorArithmetic.Arange(10, ScalarType.Float32).reshape(2, 5).Mul(1.5);
        var source = expected.bytes.ToArray();

        var destination = empty(2, 5);
        fixed (byte* pointer = source) TensorBytes.CopyInto(destination, pointer, sizeof(float), chunkBytes);
        Assert.Equal(source, destination.bytes.ToArray());

        using var stream = new MemoryStream();
        TensorBytes.WriteTo(stream, expected, sizeof(float), chunkBytes);
        Assert.Equal(source, stream.ToArray());
    }
}
