using Lenta.Server.Media;
using Lenta.Server.Platform.Jobs;

namespace Lenta.Tests.Media;

/// <summary>Queued media jobs hold their payload's JSON: a queued job must still read after a release.</summary>
public sealed class MediaJobPayloadTests
{
    [Fact]
    public void A_queued_video_job_reads_as_a_video_job_and_is_written_the_same_way()
    {
        const string queued = """{"MediaId":123456789012}""";
        Assert.Equal(new VideoJob(123456789012), new Job(1, MediaService.VideoQueue, VideoJobHandler.JobType, queued, 1).Read<VideoJob>());
        Assert.Equal(queued, JobRequest.For(MediaService.VideoQueue, VideoJobHandler.JobType, new VideoJob(123456789012)).Payload);
    }

    [Fact]
    public void A_queued_photo_job_reads_as_a_photo_job_and_is_written_the_same_way()
    {
        const string queued = """{"MediaId":123456789012}""";
        Assert.Equal(new PhotoJob(123456789012), new Job(1, MediaService.Queue, PhotoJobHandler.JobType, queued, 1).Read<PhotoJob>());
        Assert.Equal(queued, JobRequest.For(MediaService.Queue, PhotoJobHandler.JobType, new PhotoJob(123456789012)).Payload);
    }
}
