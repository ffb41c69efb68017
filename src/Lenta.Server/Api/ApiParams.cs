using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Primitives;

namespace Lenta.Server.Api;

/// <summary>
/// A request's parameters the way Mastodon (Rails) sees them: query string and body merged (body wins),
/// from JSON, form-urlencoded or multipart alike, with Rails brackets expanded: <c>id[]=1&amp;id[]=2</c> and
/// masto.js's <c>id[0]=1</c> are arrays, <c>source[privacy]=x</c> is an object. Unknown parameters are ignored.
/// </summary>
public sealed class ApiParams
{
    private readonly JsonObject _root;

    private ApiParams(JsonObject root, IFormFileCollection? files)
    {
        _root = root;
        Files = files;
    }

    public IFormFileCollection? Files { get; }

    public static ApiParams Empty { get; } = new([], null);

    /// <summary>Reads the query and body. Throws <see cref="ApiException"/> (400/413/415) for a body it cannot read.</summary>
    public static async Task<ApiParams> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        var root = new JsonObject();
        AddPairs(root, request.Query.Select(q => new KeyValuePair<string, StringValues>(q.Key, q.Value)));
        IFormFileCollection? files = null;

        var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (!hasBody)
            return new ApiParams(root, null);

        var type = request.ContentType ?? "";
        if (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || type.Contains("+json", StringComparison.OrdinalIgnoreCase))
        {
            var body = JsonBody.Parse(await ReadBodyAsync(context));
            foreach (var (k, v) in body.ToList())
            {
                body.Remove(k);
                root[k] = v;
            }
        }
        else if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(context.RequestAborted);
            }
            catch (BadHttpRequestException)
            {
                throw; // Kestrel's own 4xx (413 past the body limit, 400 for a broken body) with its own text
            }
            catch (Exception e) when (e is InvalidDataException or IOException && !context.RequestAborted.IsCancellationRequested)
            {
                throw new ApiException(400, $"The request body is not a valid form ({e.Message})");
            }
            AddPairs(root, form);
            files = form.Files;
        }
        else
        {
            throw new ApiException(415, $"Unsupported content type '{type}'; send application/json, application/x-www-form-urlencoded or multipart/form-data");
        }
        return new ApiParams(root, files);
    }

    /// <summary>The whole body, refused with a 413 past <see cref="RequestLimits.BodyBytes"/> whatever limit the endpoint set.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > RequestLimits.BodyBytes)
            throw RequestLimits.TooLarge();
        var buffer = new byte[(int)(request.ContentLength ?? 16 * 1024)];
        var length = 0;
        while (true)
        {
            if (request.ContentLength == length)
                return buffer.AsMemory(0, length);
            if (length == buffer.Length)
            {
                if (length >= RequestLimits.BodyBytes + 1)
                    throw RequestLimits.TooLarge();
                Array.Resize(ref buffer, Math.Min(Math.Max(buffer.Length * 2, 16 * 1024), RequestLimits.BodyBytes + 1));
            }
            var n = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted);
            if (n == 0)
                return buffer.AsMemory(0, length);
            length += n;
        }
    }

    /// <summary>Builds parameters from form-style pairs (used to normalize OAuth requests).</summary>
    public static ApiParams FromPairs(IEnumerable<KeyValuePair<string, StringValues>> pairs)
    {
        var root = new JsonObject();
        AddPairs(root, pairs);
        return new ApiParams(root, null);
    }

    public bool Has(string name) => _root.ContainsKey(name);

    /// <summary>A scalar as text (JSON numbers and booleans too); null when absent or JSON null.</summary>
    public string? String(string name) => _root[name] is JsonValue v ? ScalarText(v) : null;

    /// <summary>Mastodon booleans: <c>false 0 f off</c> (any case) are false, empty is "not given", anything else true.</summary>
    public bool? Bool(string name)
    {
        if (_root[name] is not JsonValue v)
            return null;
        if (v.TryGetValue<bool>(out var b))
            return b;
        var text = ScalarText(v);
        if (string.IsNullOrEmpty(text))
            return null;
        return text.ToLowerInvariant() is not ("false" or "0" or "f" or "off");
    }

    /// <summary>An integer, or null when absent; 400 naming the parameter when it is not a number.</summary>
    public long? Long(string name)
    {
        var text = String(name);
        if (string.IsNullOrEmpty(text))
            return null;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ApiException(400, $"Parameter {name} must be an integer");
    }

    /// <summary>An array parameter (<c>name[]</c>, <c>name[0]</c>, a JSON array, or a single value), as texts.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        var node = _root[name] ?? _root[name + "[]"];
        return node switch
        {
            JsonArray a => a.OfType<JsonValue>().Select(ScalarText).OfType<string>().ToList(),
            JsonValue v when ScalarText(v) is { } s => [s],
            _ => [],
        };
    }

    /// <summary>A nested object parameter (<c>source[privacy]</c>), or null.</summary>
    public ApiParams? Object(string name) => _root[name] is JsonObject o ? new ApiParams(o, null) : null;

    /// <summary>An array of objects (<c>fields_attributes[0][name]</c>, or the same as a hash keyed by index).</summary>
    public IReadOnlyList<ApiParams> Objects(string name) => _root[name] switch
    {
        JsonArray a => a.OfType<JsonObject>().Select(o => new ApiParams(o, null)).ToList(),
        JsonObject o => o.Select(kv => kv.Value).OfType<JsonObject>().Select(x => new ApiParams(x, null)).ToList(),
        _ => [],
    };

    public IEnumerable<KeyValuePair<string, string>> ScalarPairs() =>
        _root.Where(kv => kv.Value is JsonValue).Select(kv => new KeyValuePair<string, string>(kv.Key, ScalarText((JsonValue)kv.Value!) ?? ""));

    private static string? ScalarText(JsonValue v) => v.GetValueKind() switch
    {
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => v.ToJsonString(),
        _ => null,
    };

    private static void AddPairs(JsonObject root, IEnumerable<KeyValuePair<string, StringValues>> pairs)
    {
        foreach (var (key, values) in pairs)
        {
            foreach (var value in values)
                Insert(root, key, value ?? "");
        }
        Arrayify(root);
    }

    /// <summary>Inserts <c>a[b][]=v</c> as root.a.b += v. An empty segment appends to an array.</summary>
    private static void Insert(JsonObject root, string key, string value)
    {
        if (key.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            throw new ApiException(400, $"Parameter {key.Replace("\0", "", StringComparison.Ordinal)}: {JsonBody.NulText}");
        var segments = Segments(key);
        if (segments.Count > RequestLimits.Depth)
            throw new ApiException(400, $"Parameter {segments[0]} is nested deeper than {RequestLimits.Depth} levels");
        JsonNode container = root;
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var last = i == segments.Count - 1;
            if (container is JsonObject obj)
            {
                if (last)
                {
                    obj[segment] = value;
                    return;
                }
                var nextIsAppend = segments[i + 1].Length == 0;
                if (obj[segment] is not (JsonObject or JsonArray))
                    obj[segment] = nextIsAppend ? new JsonArray() : new JsonObject();
                if (nextIsAppend && obj[segment] is JsonObject)
                    obj[segment] = new JsonArray();
                container = obj[segment]!;
            }
            else if (container is JsonArray array)
            {
                // segment is "" (append): a[] = v; a[][x] = v fills the last object unless it has x already (Rails'
                // rule, so media_attributes[][id]=1&media_attributes[][description]=d is one object), else appends one.
                if (last || i + 1 == segments.Count)
                {
                    array.Add(value);
                    return;
                }
                if (array.Count > 0 && array[^1] is JsonObject open && !open.ContainsKey(segments[i + 1]))
                {
                    container = open;
                    continue;
                }
                var child = new JsonObject();
                array.Add(child);
                container = child;
            }
        }
    }

    private static List<string> Segments(string key)
    {
        var open = key.IndexOf('[', StringComparison.Ordinal);
        if (open <= 0 || !key.EndsWith(']'))
            return [key];
        var result = new List<string> { key[..open] };
        var rest = key[open..];
        var sb = new StringBuilder();
        var inside = false;
        foreach (var c in rest)
        {
            if (c == '[' && !inside)
            {
                inside = true;
                sb.Clear();
            }
            else if (c == ']' && inside)
            {
                inside = false;
                result.Add(sb.ToString());
            }
            else if (inside)
            {
                sb.Append(c);
            }
            else
            {
                return [key]; // not bracket syntax after all
            }
        }
        return result;
    }

    /// <summary>Objects whose keys are all indexes (<c>key[0]</c>, <c>key[1]</c>) become arrays, in index order.</summary>
    private static void Arrayify(JsonObject obj)
    {
        foreach (var (k, v) in obj.ToList())
        {
            if (v is JsonObject child)
            {
                Arrayify(child);
                if (child.Count > 0 && child.All(kv => int.TryParse(kv.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                {
                    var items = child.OrderBy(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture)).Select(kv => kv.Value).ToList();
                    child.Clear();
                    var array = new JsonArray();
                    foreach (var item in items)
                        array.Add(item);
                    obj[k] = array;
                }
            }
            else if (v is JsonArray arr)
            {
                foreach (var o in arr.OfType<JsonObject>())
                    Arrayify(o);
            }
        }
    }
}

/// <summary>An API failure with its status and Mastodon <c>error</c> text (and, for 422, optional <c>details</c>).</summary>
public sealed class ApiException(int status, string error, object? details = null) : Exception(error)
{
    public int Status { get; } = status;
    public string Error { get; } = error;
    public object? Details { get; } = details;
}
