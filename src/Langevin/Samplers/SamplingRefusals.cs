namespace Langevin.Samplers;

/// <summary>The refusals a model's own sampling shares, naming the settings sampler and noise.</summary>
public static class SamplingRefusals
{
    /// <summary>"sampler: MODEL samples with: KNOWN (got 'NAME')", e.g. MODEL = "a CLD model".</summary>
    public static SettingException Sampler(string model, string known, string name) =>
        SettingException.About("sampler", name, $"{model} samples with: {known} (got '{name}')");

    /// <summary>"noise: shape [..] does not match the model's samples [..]".</summary>
    public static SettingException NoiseShape(long[] noise, long[] samples) =>
        SettingException.About("noise", null, $"shape [{string.Join(", ", noise)}] does not match the model's samples [{string.Join(", ", samples)}]");
}
