using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace Lenta.Server.Platform.Database;

/// <summary>
/// The SQLite writer's prepared statements, one command per SQL text, kept for the connection's life: Microsoft.Data.Sqlite
/// prepares a command's statements once and reuses them while the command lives, but Dapper makes a new command per
/// call, so every write statement was parsed and planned again. Parameters come from the argument object's properties
/// (as Dapper's would: <c>@Name</c>); a list of argument objects, or one with a property Dapper would expand or convert
/// (a list, an enum, a type of its own), is left to Dapper, as is every statement past the first 256 texts. The writer's
/// own statements (the savepoints around each write) run here too. Used by the writer thread only.
/// </summary>
internal sealed class SqliteStatements(SqliteConnection connection) : IDisposable
{
    private const int MaxStatements = 256;
    private static readonly ConcurrentDictionary<Type, Binder?> Binders = new();
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The prepared command for <paramref name="sql"/> with <paramref name="args"/> bound, or null to use Dapper.</summary>
    public SqliteCommand? Prepare(string sql, object? args, SqliteTransaction transaction)
    {
        if (args is System.Collections.IEnumerable)
            return null; // a list of argument objects: Dapper runs the statement once per item
        var binder = args is null ? null : Binders.GetOrAdd(args.GetType(), Binder.For);
        if (args is not null && binder is null)
            return null;
        if (!_commands.ContainsKey(sql) && _commands.Count >= MaxStatements)
            return null;
        var command = Command(sql, transaction);
        binder?.Bind(command, args!);
        return command;
    }

    /// <summary>Runs one of the writer's own parameterless statements (<c>SAVEPOINT w</c> …), always kept prepared.</summary>
    public void Execute(string sql, SqliteTransaction transaction) => Command(sql, transaction).ExecuteNonQuery();

    private SqliteCommand Command(string sql, SqliteTransaction transaction)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    public static T? Convert<T>(object? value)
    {
        if (value is null or DBNull)
            return default;
        if (value is T t)
            return t;
        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)System.Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Whether <typeparamref name="T"/> is a single column value (otherwise Dapper maps the row).</summary>
    public static bool IsScalar<T>() => IsScalar(typeof(T));

    private static bool IsScalar(Type type) => ScalarTypes.Contains(Nullable.GetUnderlyingType(type) ?? type);

    private static readonly HashSet<Type> ScalarTypes = [typeof(long), typeof(int), typeof(short), typeof(byte), typeof(bool), typeof(double), typeof(string), typeof(byte[])];

    public void Dispose()
    {
        foreach (var command in _commands.Values)
            command.Dispose();
        _commands.Clear();
    }

    private sealed class Binder((string Name, PropertyInfo Property)[] properties)
    {
        public static Binder? For(Type type)
        {
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
            return properties.All(p => IsScalar(p.PropertyType))
                ? new Binder(properties.Select(p => ("@" + p.Name, p)).ToArray())
                : null;
        }

        public void Bind(SqliteCommand command, object args)
        {
            foreach (var (name, property) in properties)
                command.Parameters.AddWithValue(name, property.GetValue(args) ?? DBNull.Value);
        }
    }
}
