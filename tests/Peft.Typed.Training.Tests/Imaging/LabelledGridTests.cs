using Peft.Typed.Models.Runtime;
using Peft.Typed.Training.Imaging;
using SkiaSharp;
using static TorchSharp.torch;

namespace Peft.Typed.Training.Tests.Imaging;

public sealed class LabelledGridTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peft-typed-grid-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Rows_sit_under_their_labels_with_small_images_enlarged_by_whole_pixels()
    {
        using var scope = NewDisposeScope();
        // Row 0: two red 32×32 images; row 1: one blue one. 32 px is enlarged 4× to 128 px cells.
        var red = zeros(2, 3, 32, 32);
        red[.., 0] = ones(2, 32, 32);
        var blue = zeros(1, 3, 32, 32);
        blue[.., 2] = ones(1, 32, 32);
        var path = Path.Combine(_dir, "grid.png");
        LabelledGrid.Save(path, [("base model: a photo of toy", red), ("step 10: a photo of toy", blue)]);

        using var bitmap = SKBitmap.Decode(path);
        const int label = 20, cell = 128, gap = 2;
        Assert.Equal((2 * cell + gap, 2 * (label + cell)), (bitmap.Width, bitmap.Height));
        Assert.Equal(SKColors.Red, bitmap.GetPixel(cell / 2, label + cell / 2));
        Assert.Equal(SKColors.Red, bitmap.GetPixel(cell + gap + cell - 1, label + cell - 1));
        Assert.Equal(SKColors.Blue, bitmap.GetPixel(0, 2 * label + cell));
        // The second row has one image: the rest of it is background.
        Assert.Equal(SKColors.White, bitmap.GetPixel(cell + gap + cell / 2, 2 * label + cell + cell / 2));
        // Each label band holds dark text pixels; the band is white otherwise.
        foreach (int top in new[] { 0, label + cell })
        {
            var band = Enumerable.Range(0, bitmap.Width).SelectMany(x => Enumerable.Range(top, label).Select(y => bitmap.GetPixel(x, y)));
            Assert.Contains(band, p => p.Red < 100 && p.Green < 100 && p.Blue < 100);
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(_dir, ".*")));
    }

    [Fact]
    public void Rows_of_another_image_size_are_refused()
    {
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => LabelledGrid.Save(Path.Combine(_dir, "grid.png"), [("a", zeros(1, 3, 32, 32)), ("b", zeros(1, 3, 16, 16))]));
        Assert.StartsWith("Grid rows must be images [N, 3, 32, 32], as the first row's.", error.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "grid.png")));
    }
}
