using System.Text.RegularExpressions;
using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using Lenta.Server.Host;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Lenta.Tests.Architecture;

/// <summary>
/// The server's module graph (docs/ARCHITECTURE.md, "Modules"): modules depend on Platform and on each other only
/// downwards, Platform on no module, and the composition root sits above them all. Where two modules need each other
/// the lower one defines an interface and the upper one implements it.
/// </summary>
public sealed partial class ModuleGraphTests
{
    /// <summary>
    /// Bottom to top. A module may use the modules of lower rows, never those of its own row or above. A namespace
    /// <c>Lenta.Server.X</c> is module X (<c>Platform.*</c> is one module, as is <c>Accounts.OAuth</c> with Accounts);
    /// types outside any <c>Lenta.Server</c> namespace (the top-level <c>Program</c>) count as the composition root.
    /// </summary>
    public static readonly string[][] Layers =
    [
        ["Platform"],
        ["Api"],
        ["Accounts"],
        ["Graph"],
        ["Media"],
        ["Posts"],
        ["Tags"],
        ["Feed", "Likes", "Bookmarks", "Conversations"],
        ["Notifications"],
        ["Instance", "Web", "Streaming"],
        ["Host"],
    ];

    private static readonly Lazy<ArchUnitNET.Domain.Architecture> Loaded =
        new(() => new ArchLoader().LoadAssemblies(typeof(LentaHost).Assembly).Build());

    [Fact]
    public void Modules_have_no_dependency_cycles()
    {
        var cycles = Cycles(Edges(Loaded.Value.Types, ModuleOf));
        Assert.True(cycles.Count == 0, "Module cycles:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void Platform_parts_have_no_dependency_cycles()
    {
        var cycles = Cycles(Edges(Loaded.Value.Types, ns => ns.StartsWith("Lenta.Server.Platform.", StringComparison.Ordinal) ? ns : null));
        Assert.True(cycles.Count == 0, "Platform cycles:\n" + string.Join("\n", cycles));
    }

    [Fact]
    public void The_cycle_check_finds_a_cycle()
    {
        var edges = new Dictionary<string, Dictionary<string, string>>
        {
            ["A"] = new() { ["B"] = "a1 -> b1" },
            ["B"] = new() { ["C"] = "b1 -> c1" },
            ["C"] = new() { ["A"] = "c1 -> a1" },
            ["D"] = new() { ["A"] = "d1 -> a1" },
        };
        var cycle = Assert.Single(Cycles(edges));
        Assert.Contains("A -> B", cycle);
        Assert.DoesNotContain("D", cycle);
    }

    [Fact]
    public void Every_module_depends_only_on_lower_layers()
    {
        var violations = UpwardReferences(Loaded.Value.Types);
        Assert.True(violations.Count == 0, "References to a module of the same or a higher layer:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_layer_check_reports_an_upward_reference()
    {
        // The rule itself, on a reference that must be refused: Platform (the bottom) using a module.
        Assert.Equal(0, LayerOf(ModuleOf("Lenta.Server.Platform.Cache")));
        Assert.True(LayerOf(ModuleOf("Lenta.Server.Posts")) > LayerOf(ModuleOf("Lenta.Server.Media")));
        Assert.Equal("Host", ModuleOf(""));
        Assert.Equal("Accounts", ModuleOf("Lenta.Server.Accounts.OAuth"));
        Assert.False(MayUse("Platform", "Posts"));
        Assert.False(MayUse("Feed", "Likes"));
        Assert.True(MayUse("Likes", "Posts"));
    }

    [Fact]
    public void No_module_reads_or_writes_another_modules_tables()
    {
        using var assembly = AssemblyDefinition.ReadAssembly(typeof(LentaHost).Assembly.Location);
        var literals = Literals(assembly.MainModule);
        var owners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (module, text, _) in literals)
        {
            foreach (Match m in CreateTable().Matches(text))
                owners[m.Groups[1].Value] = module;
        }
        Assert.Contains("statuses", owners.Keys);
        Assert.Equal("Posts", owners["statuses"]);

        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (module, text, where) in literals)
        {
            if (Moves.Any(text.Contains))
                continue;
            foreach (Match m in TableUse().Matches(text))
            {
                var table = m.Groups[1].Value;
                if (owners.TryGetValue(table, out var owner) && owner != module)
                    violations.Add($"{where} ({module}) uses {owner}'s table {table}: \"{m.Value}\"");
            }
        }
        Assert.True(violations.Count == 0, "SQL on another module's tables (call that module's service instead):\n" + string.Join("\n", violations));
    }

    /// <summary>
    /// Migrations that moved data between two modules' tables once, on the way to the current schema (they must stay as
    /// they ran: a database that applied them is never migrated again by id).
    /// </summary>
    private static readonly string[] Moves =
    [
        "INSERT INTO favourite_counts (status_id, favourites_count) SELECT id, favourites_count FROM statuses",
    ];

    internal static string ModuleOf(string ns)
    {
        var parts = ns.Split('.');
        return parts.Length >= 3 && parts[0] == "Lenta" && parts[1] == "Server" ? parts[2] : "Host";
    }

    internal static int LayerOf(string module)
    {
        for (var i = 0; i < Layers.Length; i++)
        {
            if (Layers[i].Contains(module))
                return i;
        }
        return -1;
    }

    internal static bool MayUse(string from, string to) => from == to || LayerOf(to) < LayerOf(from);

    /// <summary>For each group (a module, or whatever <paramref name="groupOf"/> makes of a namespace; null leaves a type out), the groups it uses, each with one example reference.</summary>
    private static Dictionary<string, Dictionary<string, string>> Edges(IEnumerable<IType> types, Func<string, string?> groupOf)
    {
        var edges = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            if (!IsOurs(type) || groupOf(type.Namespace?.FullName ?? "") is not { } from)
                continue;
            foreach (var dependency in type.Dependencies)
            {
                if (dependency.Target is not { } target || !IsOurs(target) || groupOf(target.Namespace?.FullName ?? "") is not { } to || to == from)
                    continue;
                if (!edges.TryGetValue(from, out var targets))
                    edges[from] = targets = new(StringComparer.Ordinal);
                targets.TryAdd(to, $"{type.FullName} -> {target.FullName}");
            }
        }
        return edges;
    }

    /// <summary>Each strongly connected set of groups (Tarjan), as its edges with their example references.</summary>
    internal static List<string> Cycles(Dictionary<string, Dictionary<string, string>> edges)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var found = new List<string>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            foreach (var w in edges.GetValueOrDefault(v)?.Keys ?? Enumerable.Empty<string>())
            {
                if (!index.TryGetValue(w, out var seen))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (stack.Contains(w))
                {
                    low[v] = Math.Min(low[v], seen);
                }
            }
            if (low[v] != index[v])
                return;
            var members = new HashSet<string>(StringComparer.Ordinal);
            string m;
            do
            {
                m = stack.Pop();
                members.Add(m);
            }
            while (m != v);
            if (members.Count > 1)
            {
                found.Add(string.Join("\n", members.Order(StringComparer.Ordinal).SelectMany(from =>
                    edges[from].Where(e => members.Contains(e.Key)).Select(e => $"  {from} -> {e.Key}: {e.Value}"))));
            }
        }
        foreach (var v in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(v))
                Visit(v);
        }
        return found;
    }

    private static List<string> UpwardReferences(IEnumerable<IType> types)
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            if (!IsOurs(type))
                continue;
            var from = ModuleOf(type.Namespace?.FullName ?? "");
            if (LayerOf(from) < 0)
            {
                violations.Add($"{type.FullName}: module '{from}' is not in {nameof(ModuleGraphTests)}.{nameof(Layers)} (place it in the graph)");
                continue;
            }
            foreach (var dependency in type.Dependencies)
            {
                var target = dependency.Target;
                if (target is null || !IsOurs(target))
                    continue;
                var to = ModuleOf(target.Namespace?.FullName ?? "");
                if (!MayUse(from, to))
                    violations.Add($"{type.FullName} ({from}) -> {target.FullName} ({to})");
            }
        }
        return [.. violations];
    }

    /// <summary>Types compiled from our sources (not the framework's, nor generated ones such as <c>&lt;PrivateImplementationDetails&gt;</c>).</summary>
    private static bool IsOurs(IType type) =>
        type.Assembly?.Name?.StartsWith("Lenta.Server", StringComparison.Ordinal) == true && !type.FullName.StartsWith('<')
        && !type.FullName.StartsWith("Microsoft.", StringComparison.Ordinal) && !type.FullName.StartsWith("System.", StringComparison.Ordinal);

    /// <summary>Every string literal of the assembly with the module of the code that holds it.</summary>
    private static List<(string Module, string Text, string Where)> Literals(ModuleDefinition module)
    {
        var found = new List<(string, string, string)>();
        foreach (var type in module.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null)
                outer = outer.DeclaringType;
            var owner = ModuleOf(outer.Namespace);
            foreach (var method in type.Methods.Where(m => m.HasBody))
            {
                foreach (var instruction in method.Body.Instructions)
                {
                    if (instruction.OpCode == OpCodes.Ldstr && instruction.Operand is string text)
                        found.Add((owner, text, outer.FullName));
                }
            }
        }
        return found;
    }

    [GeneratedRegex(@"CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)")]
    private static partial Regex CreateTable();

    /// <summary>A table named after a statement keyword (upper case, as all our SQL is written).</summary>
    [GeneratedRegex(@"\b(?:FROM|JOIN|INTO|UPDATE|ALTER TABLE|INDEX [a-z0-9_]+ ON)\s+([a-z_][a-z0-9_]*)")]
    private static partial Regex TableUse();
}
