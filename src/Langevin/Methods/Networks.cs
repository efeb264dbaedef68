using Langevin.Models;
using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>Builds the network a <see cref="NetworkConfig"/> describes for data items of a given shape.</summary>
public static class Networks
{
    public static bool IsImage(long[] itemShape) => itemShape.Length == 3;

    public static string ResolveKind(NetworkConfig config, long[] itemShape) =>
        config.Kind != "auto" ? config.Kind : IsImage(itemShape) ? "unet" : "mlp";

    public static nn.Module<Tensor, Tensor, Tensor> Create(NetworkConfig config, long[] itemShape)
    {
        switch (ResolveKind(config, itemShape))
        {
            case "mlp":
                if (itemShape.Length != 1) throw SettingException.Sentence("network.kind", "mlp", $"mlp needs point data [N, D]; this data has items of shape [{string.Join(", ", itemShape)}]; use unet");
                return new ScoreMlp(new ScoreMlpConfig((int)itemShape[0], config.Width, config.Depth, FourierFeatures: config.FourierFeatures, Classes: config.Classes));
            case "adm":
                return CreateAdm(config, itemShape);
            default:
                if (!IsImage(itemShape)) throw SettingException.Sentence("network.kind", "unet", $"unet needs image data [N, C, H, W]; this data has items of shape [{string.Join(", ", itemShape)}]; use mlp");
                long c = itemShape[0], h = itemShape[1], w = itemShape[2];
                if (h != w) throw SettingException.Sentence("network.kind", "unet", $"unet needs square images (got {h}×{w})");
                int downs = config.ChannelMults.Length - 1;
                if (h % (1L << downs) != 0) throw SettingException.About("network.channel_mults", string.Join(",", config.ChannelMults), $"{h}×{h} images cannot be halved {downs} times; use fewer levels");
                var unet = new UNetConfig((int)c, (int)c, (int)h, config.BaseChannels, config.ChannelMults,
                    config.NumResBlocks, config.AttnResolutions, config.Dropout, GroupNormGroups: 8, Classes: config.Classes);
                try { unet.Validate(); }
                catch (ArgumentException e) { throw SettingException.Sentence("network.kind", "unet", $"unet: {e.Message}"); }
                return new UNet(unet);
        }
    }

    /// <summary>The ADM U-Net (Dhariwal &amp; Nichol 2021) with the U-Net settings plus <see cref="NetworkConfig.Adm"/>.</summary>
    public static AdmUNet CreateAdm(NetworkConfig config, long[] itemShape)
    {
        if (!IsImage(itemShape)) throw SettingException.Sentence("network.kind", "adm", $"adm needs image data [N, C, H, W]; this data has items of shape [{string.Join(", ", itemShape)}]; use mlp");
        long c = itemShape[0], h = itemShape[1], w = itemShape[2];
        if (h != w) throw SettingException.Sentence("network.kind", "adm", $"adm needs square images (got {h}×{w})");
        int groups = config.ChannelMults.All(m => config.BaseChannels * m % 32 == 0) ? 32 : 8;   // ADM's GroupNorm32 where it fits
        var adm = new AdmUNetConfig((int)c, config.Adm.LearnSigma ? 2 * (int)c : (int)c, (int)h, config.BaseChannels, config.ChannelMults,
            config.NumResBlocks, config.AttnResolutions, config.Adm.Heads, config.Dropout, config.Adm.ScaleShiftNorm, config.Adm.ResblockUpdown, groups, config.Classes);
        try { adm.Validate(); }
        catch (ArgumentException e) { throw SettingException.Sentence("network.kind", "adm", $"adm: {e.Message}"); }
        return new AdmUNet(adm);
    }
}
