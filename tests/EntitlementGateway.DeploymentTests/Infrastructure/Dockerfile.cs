using System.Text.RegularExpressions;

namespace EntitlementGateway.DeploymentTests.Infrastructure;

/// <summary>One instruction of the Dockerfile, continuation lines joined.</summary>
public sealed record DockerInstruction(string Keyword, string Arguments, int Stage);

/// <summary>A small reader of the repository's Dockerfile: instructions by stage, with the stage names.</summary>
public sealed partial class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerInstruction> instructions) => Instructions = instructions;

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    public IReadOnlyList<DockerInstruction> Stages => Instructions.Where(i => i.Keyword == "FROM").ToList();

    public IEnumerable<DockerInstruction> InStage(int stage, string keyword) =>
        Instructions.Where(i => i.Stage == stage && i.Keyword == keyword);

    public int FinalStage => Stages.Count - 1;

    public static Dockerfile Load()
    {
        var instructions = new List<DockerInstruction>();
        var stage = -1;
        var pending = "";
        foreach (var raw in File.ReadLines(Repo.PathOf("Dockerfile")))
        {
            var line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#'))) continue;
            if (line.StartsWith('#')) continue; // comment inside a continued instruction
            if (line.EndsWith('\\'))
            {
                pending += line[..^1] + " ";
                continue;
            }
            var text = (pending + line).Trim();
            pending = "";
            var match = InstructionLine().Match(text);
            if (!match.Success) throw new InvalidOperationException($"not a Dockerfile instruction: {text}");
            var keyword = match.Groups[1].Value.ToUpperInvariant();
            if (keyword == "FROM") stage++;
            instructions.Add(new DockerInstruction(keyword, match.Groups[2].Value.Trim(), stage));
        }
        return new Dockerfile(instructions);
    }

    /// <summary>The ENV of a stage as key/value pairs (the KEY=VALUE form, several per line).</summary>
    public Dictionary<string, string> Environment(int stage) =>
        InStage(stage, "ENV").SelectMany(i => EnvPair().Matches(i.Arguments)).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

    [GeneratedRegex(@"^([A-Za-z]+)\s+(.*)$", RegexOptions.Singleline)]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S+)")]
    private static partial Regex EnvPair();
}
