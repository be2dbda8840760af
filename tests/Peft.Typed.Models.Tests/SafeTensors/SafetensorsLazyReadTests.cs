using System.Buffers.Binary;
using System.Text;
using Peft.Typed.Models.SafeTensors;
using static TorchSharp.torch;

namespace Peft.Typed.Models.Tests.SafeTensors;

/// <summary>The reader maps the file instead of reading it: a large data section costs no managed memory.</summary>
public sealed class SafetensorsLazyReadTests : IDisposable
{
    private const long BigBytes = 256L << 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-st-lazy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A 256 MiB U8 tensor (a sparse hole, never written) followed by four floats.</summary>
    private string WriteLargeSparseFile()
    {
        var header = Encoding.ASCII.GetBytes(
            $$$"""{"big":{"dtype":"U8","shape":[{{{BigBytes}}}],"data_offsets":[0,{{{BigBytes}}}]},"small":{"dtype":"F32","shape":[4],"data_offsets":[{{{BigBytes}}},{{{BigBytes + 16}}}]}}""");
        var path = Path.Combine(_dir, "large.safetensors");
        using var stream = new FileStream(path, FileMode.CreateNew);
        Span<byte> size = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)header.Length);
        stream.Write(size);
        stream.Write(header);
        stream.SetLength(8 + header.Length + BigBytes);
        stream.Seek(0, SeekOrigin.End);
        Span<byte> small = stackalloc byte[16];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteSingleLittleEndian(small[(4 * i)..], i + 1);
        stream.Write(small);
        return path;
    }

    [Fact]
    public void Open_and_loading_one_tensor_allocate_far_less_than_the_file()
    {
        var path = WriteLargeSparseFile();
        using (var warmup = SafetensorsFile.Open(path)) warmup.Load("small").Dispose();

        long before = GC.GetAllocatedBytesForCurrentThread();
        float[] values;
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(BigBytes, file.Info("big").ByteLength);
            using var small = file.Load("small");
            values = small.data<float>().ToArray();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, values);
        // The header is ~170 bytes; parsing it, the map and the tensor wrapper need a few KB, not the 256 MiB data.
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }
}
