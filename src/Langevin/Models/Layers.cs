using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Langevin.Models;

/// <summary>Layer factories that fix TorchSharp defaults where they differ from PyTorch's.</summary>
internal static class Layers
{
    /// <summary>
    /// GroupNorm with weight 1 and bias 0, as PyTorch initialises it. TorchSharp 0.107 allocates them with
    /// torch.empty and never initialises them (garbage, often NaN forward), so every GroupNorm goes through here.
    /// </summary>
    public static GroupNorm GroupNorm(int groups, int channels)
    {
        var norm = nn.GroupNorm(groups, channels);
        using (no_grad())
        {
            norm.weight.fill_(1f);
            norm.bias!.zero_();
        }
        return norm;
    }
}
