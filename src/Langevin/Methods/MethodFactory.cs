using Langevin.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Langevin.Methods;

/// <summary>The registry of methods `langevin train --method NAME` knows.</summary>
public static class MethodFactory
{
    public static readonly IReadOnlyList<string> Names = ["ncsn", "ddpm", "edm", "sde", "ebm", "cld", "walkjump", "adv-ebm", "dmcmc", "toy-gan"];

    /// <summary>Resolves automatic settings from the data (before training) and returns the final config.</summary>
    public static TrainConfig Resolve(TrainConfig config, Tensor data, Generator gen) => config.Method switch
    {
        "ncsn" => NcsnMethod.Resolve(config, data, gen),
        "ddpm" or "edm" or "sde" => DdpmMethod.Resolve(config, data),
        "ebm" => EbmMethod.Resolve(config, data),
        "adv-ebm" => AdversarialEbmMethod.Resolve(config, data),
        "cld" => CldMethod.Resolve(config, data, gen),
        "walkjump" => WalkJumpMethod.Resolve(config, data, gen),
        "dmcmc" => DmcmcMethod.Resolve(config, data),
        "toy-gan" => config,
        _ => throw Unknown(config.Method),
    };

    /// <summary>Builds a method from a resolved config (training start, resume, or a checkpoint).</summary>
    public static IGenerativeMethod Create(TrainConfig config, long[] itemShape) => config.Method switch
    {
        "ncsn" => new NcsnMethod(config, itemShape),
        "ddpm" or "edm" or "sde" => new DdpmMethod(config, itemShape),
        "ebm" => new EbmMethod(config, itemShape),
        "adv-ebm" => new AdversarialEbmMethod(config, itemShape),
        "cld" => new CldMethod(config, itemShape),
        "walkjump" => new WalkJumpMethod(config, itemShape),
        "dmcmc" => new DmcmcMethod(config, itemShape),
        "toy-gan" => new ToyGanMethod(config, itemShape),
        _ => throw Unknown(config.Method),
    };

    static UsageException Unknown(string name) =>
        new($"--method: unknown method '{name}'; known: {string.Join(", ", Names)}");
}
