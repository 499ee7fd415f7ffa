DROP TABLE ssf_deliveries;
DROP TABLE ssf_pending;
DROP TABLE ssf_stream_subjects;
DROP TABLE ssf_streams;
