using System.Text;
using System.Text.RegularExpressions;

namespace Langevin.Tests.Cli;

/// <summary>
/// The library names settings, not the CLI's flags (issue 13, item 9): its sources hold no message that spells a flag, and
/// the CLI spells the settings of converted messages back as the flags users type.
/// </summary>
public class LibraryMessageTests
{
    [Fact]
    public void NoLibraryMessageNamesAFlag()
    {
        string library = Path.Combine(CliRunner.RepositoryRoot(), "src", "Langevin");
        var files = Directory.EnumerateFiles(library, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(library, f).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            .ToList();
        Assert.True(files.Count > 100, $"the library's sources are found ({files.Count} files under {library})");
        var offenders = files
            .SelectMany(f => FlagNamingScan.Offences(File.ReadAllText(f)).Select(o => $"{Path.GetRelativePath(library, f)}:{o.Line}: \"{o.Text}\""))
            .ToList();
        Assert.True(offenders.Count == 0, $"{offenders.Count} library messages name a CLI flag:\n{string.Join('\n', offenders)}");
    }

    [Theory]
    [InlineData("throw new UsageException($\"--steps must be ≥ 1 (got {n})\");", 1)]
    [InlineData("throw new UsageException(\"--importance-sampling needs likelihood weighting\");", 1)]
    [InlineData("throw new TrainingDivergedException($\"stopped at step {s}; lower --lr\");", 1)]
    [InlineData("throw new UsageException($\"{(a ? \"x\" : $\"y {b} --beta\")} z\");", 1)]
    [InlineData("var flags = items.Select(o => \"--\" + o.Name);", 1)]
    [InlineData("public UsageException Error(string m) => new($\"--{Name} {m}\");", 1)]
    [InlineData("throw new SettingException(\"steps\", n, \"must be ≥ 1\");", 0)]
    [InlineData("throw SettingException.About(\"noise\", f, $\"shape [{string.Join(\", \", s)}] does not match\");", 0)]
    [InlineData("throw new DataException($\"{p}: not found; train one with 'langevin features train --data DATA --out {p}'\");", 0)]
    [InlineData("Option(\"clamp\", null, \"clamp the states (--sgld-clamp false: off)\", \"sgld_clamp\");", 0)]
    [InlineData("// throw new UsageException(\"--steps must be ≥ 1\");\nvar c = '\"'; var d = @\"a \"\"--b\"\" c\";", 0)]
    public void TheScanFindsFlagsInMessagesAndNothingElse(string source, int offences) =>
        Assert.Equal(offences, FlagNamingScan.Offences(source).Count());

    [Fact]
    public void APlainSettingIsSpelledAsItsFlag() =>
        CliRunner.AssertFailsWith(CliRunner.Run("mcmc", "--target", "banana", "--kernel", "ula", "--chains", "1"), 2,
            "--chains must be ≥ 2 for R-hat (got 1)");

    [Fact]
    public void ARegisteredSettingIsSpelledAsTrainsOption()
    {
        string dir = Directory.CreateTempSubdirectory("langevin-messages-").FullName;
        try
        {
            var r = CliRunner.Run("train", "--data", "shapes:16", "--limit", "16", "--net", "mlp", "--steps", "1", "--threads", "1",
                "--out", Path.Combine(dir, "run"));
            CliRunner.AssertFailsWith(r, 2, "--net mlp needs point data [N, D]; this data has items of shape [3, 16, 16]; use unet");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("--steps must be between 1 and T = 1000 (got 2000)", new[] { "--sampler", "ddim", "--steps", "2000" })]
    [InlineData("--round-timesteps matters only with Karras σ's (without them the timesteps are integers already)",
        new[] { "--sampler", "dpmpp-2m", "--round-timesteps", "false" })]
    public void SamplerSettingsAreSpelledAsSamplesOptions(string line, string[] options)
    {
        string dir = Directory.CreateTempSubdirectory("langevin-messages-").FullName;
        try
        {
            string json = Path.Combine(dir, "mix.json"), output = Path.Combine(dir, "x.npy");
            File.WriteAllText(json, """{"weights": [0.3, 0.7], "means": [[-1.5, 0.5], [1.5, -0.5]], "std": 0.4}""");
            CliRunner.AssertFailsWith(CliRunner.Run(["sample", "--model", $"analytic:{json}", "--out", output, .. options]), 2, line);
            Assert.False(File.Exists(output));
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>
/// Finds, in C# source, string literals that name a CLI flag where the library must name settings: any literal that starts
/// with a flag (<c>"--steps must …"</c>, <c>"--" + name</c>, <c>$"--{Name}"</c>), and any flag inside the arguments of an
/// exception's construction (<c>new XException(…)</c>, <c>SettingException.About(…)</c>), except in advice that quotes a
/// <c>langevin</c> command line.
/// </summary>
static class FlagNamingScan
{
    static readonly Regex FlagAtStart = new(@"^--(?:[a-z{]|$)");
    static readonly Regex Flag = new(@"(?<![\w-])--(?:[a-z{]|$)");
    static readonly Regex CommandAdvice = new(@"langevin [a-z][^'()]*");

    public static IEnumerable<(int Line, string Text)> Offences(string source)
    {
        var tokens = CSharpTokens.Of(source);
        var found = new HashSet<int>();
        for (int k = 0; k < tokens.Count; k++)
            if (tokens[k].Kind == CSharpTokens.Kind.String && FlagAtStart.IsMatch(tokens[k].Text)) found.Add(k);
        for (int k = 0; k < tokens.Count; k++)
        {
            if (ConstructionArguments(tokens, k) is not int open) continue;
            int depth = 0;
            for (int j = open; j < tokens.Count; j++)
            {
                var t = tokens[j];
                if (t.Is("(")) depth++;
                else if (t.Is(")") && --depth == 0) break;
                else if (t.Kind == CSharpTokens.Kind.String && Flag.IsMatch(CommandAdvice.Replace(t.Text, ""))) found.Add(j);
            }
        }
        return found.Order().Select(k => (tokens[k].Line, tokens[k].Text));
    }

    /// <summary>The index of the "(" that opens an exception's construction starting at token k, if one does.</summary>
    static int? ConstructionArguments(List<CSharpTokens.Token> t, int k)
    {
        bool Word(int i, Func<string, bool> test) => i < t.Count && t[i].Kind == CSharpTokens.Kind.Word && test(t[i].Text);
        bool Open(int i) => i < t.Count && t[i].Is("(");
        if (Word(k, w => w == "new") && Word(k + 1, w => w.EndsWith("Exception", StringComparison.Ordinal)) && Open(k + 2)) return k + 2;
        if (Word(k, w => w == "SettingException") && k + 1 < t.Count && t[k + 1].Is(".") && Word(k + 2, _ => true) && Open(k + 3)) return k + 3;
        return null;
    }
}

/// <summary>
/// C# source as words, the punctuation ( ) . and string literals (regular, verbatim, interpolated with each hole as {},
/// raw); comments and character literals skipped. The literals inside an interpolation hole follow their string.
/// </summary>
static class CSharpTokens
{
    public enum Kind { Word, Punctuation, String }

    public sealed record Token(Kind Kind, string Text, int Line)
    {
        public bool Is(string punctuation) => Kind == Kind.Punctuation && Text == punctuation;
    }

    public static List<Token> Of(string source)
    {
        var tokens = new List<Token>();
        new Lexer(source).Code(tokens, stopAtBrace: false);
        return tokens;
    }

    sealed class Lexer(string s)
    {
        readonly int[] _lineStarts = [0, .. s.Select((c, i) => (c, i)).Where(p => p.c == '\n').Select(p => p.i + 1)];
        int _i;

        char At(int offset) => _i + offset < s.Length ? s[_i + offset] : '\0';
        int Line(int position) { int k = Array.BinarySearch(_lineStarts, position); return (k >= 0 ? k : ~k - 1) + 1; }

        /// <summary>Code up to the end, or (in a hole) up to its closing brace, which it consumes.</summary>
        public void Code(List<Token> into, bool stopAtBrace)
        {
            int braces = 0;
            while (_i < s.Length)
            {
                char c = s[_i];
                if (c == '/' && At(1) == '/') { while (_i < s.Length && s[_i] != '\n') _i++; }
                else if (c == '/' && At(1) == '*') { int end = s.IndexOf("*/", _i + 2, StringComparison.Ordinal); _i = end < 0 ? s.Length : end + 2; }
                else if (StringStarts()) String(into);
                else if (c == '\'') Character();
                else if (char.IsLetter(c) || c == '_')
                {
                    int start = _i;
                    while (_i < s.Length && (char.IsLetterOrDigit(s[_i]) || s[_i] == '_')) _i++;
                    into.Add(new(Kind.Word, s[start.._i], Line(start)));
                }
                else
                {
                    if (stopAtBrace && c == '}' && braces-- == 0) { _i++; return; }
                    if (c == '{') braces++;
                    if (c is '(' or ')' or '.') into.Add(new(Kind.Punctuation, c.ToString(), Line(_i)));
                    _i++;
                }
            }
        }

        bool StringStarts()
        {
            int j = _i;
            while (j < s.Length && s[j] is '$' or '@') j++;
            return j < s.Length && s[j] == '"';
        }

        void String(List<Token> into)
        {
            int start = _i, dollars = 0;
            bool verbatim = false;
            for (; s[_i] is '$' or '@'; _i++) { if (s[_i] == '$') dollars++; else verbatim = true; }
            var text = new StringBuilder();
            var holes = new List<Token>();
            if (At(0) == '"' && At(1) == '"' && At(2) == '"')
            {
                int quotes = 0;
                while (At(0) == '"') { quotes++; _i++; }
                int end = s.IndexOf(new string('"', quotes), _i, StringComparison.Ordinal);
                text.Append(s[_i..(end < 0 ? s.Length : end)]);
                _i = end < 0 ? s.Length : end + quotes;
            }
            else
            {
                _i++;
                while (_i < s.Length)
                {
                    char c = s[_i];
                    if (c == '"' && verbatim && At(1) == '"') { text.Append('"'); _i += 2; }
                    else if (c == '"') { _i++; break; }
                    else if (c == '\\' && !verbatim) { text.Append(At(1)); _i += 2; }
                    else if (dollars > 0 && (c is '{' or '}') && At(1) == c) { text.Append(c); _i += 2; }
                    else if (dollars > 0 && c == '{') { _i++; Code(holes, stopAtBrace: true); text.Append("{}"); }
                    else { text.Append(c); _i++; }
                }
            }
            into.Add(new(Kind.String, text.ToString(), Line(start)));
            into.AddRange(holes.Where(t => t.Kind == Kind.String));
        }

        void Character()
        {
            _i++;
            if (At(0) == '\\') { _i += 2; while (_i < s.Length && s[_i] != '\'') _i++; }
            else _i++;
            _i++;
        }
    }
}
